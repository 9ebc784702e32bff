#include "operator/proxy/snapshot_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "operator/proxy/snapshot_codec.h"
#include "operator/proxy/snapshot_format.h"

namespace portico::proxy {

using namespace snapshot;

namespace {

Status errnoStatus(const std::string& what) {
  return Status(ErrorCode::Unavailable, what + ": " + std::strerror(errno));
}

}  // namespace

Expected<std::unique_ptr<SnapshotWriter>> SnapshotWriter::create(const std::string& path,
                                                                 uint64_t initial_capacity) {
  std::unique_ptr<SnapshotWriter> writer(new SnapshotWriter());
  if (Status st = writer->map(path, std::max<uint64_t>(initial_capacity, 4096)); !st) return st;
  return writer;
}

SnapshotWriter::~SnapshotWriter() {
  unmap();
}

void SnapshotWriter::unmap() {
  if (base_) munmap(base_, size_);
  base_ = nullptr;
}

// Builds a fresh region in "<path>.new" and renames it over `path`, so a reader either sees the
// old complete file or the new complete one.
Status SnapshotWriter::map(const std::string& path, uint64_t capacity) {
  std::string temp = path + ".new";
  // Whatever holds the temporary name goes first (a leftover, or a link planted to redirect the
  // write); the region is then a new file, never opened through a link.
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return errnoStatus("cannot create " + temp);
  fchmod(fd, 0600);  // whatever the umask: the snapshot holds private keys
  size_t size = regionSize(capacity);
  // The blocks are reserved now: on a full filesystem this fails here, with an error, instead of
  // a later write into the mapping killing the process with SIGBUS.
  if (int error = posix_fallocate(fd, 0, static_cast<off_t>(size)); error != 0) {
    errno = error;
    Status st = errnoStatus("cannot reserve " + std::to_string(size) + " bytes for " + temp);
    ::close(fd);
    ::unlink(temp.c_str());
    return st;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) return errnoStatus("cannot map " + temp);
  auto* header = new (base) RegionHeader{};
  std::memcpy(header->magic, kMagic, sizeof kMagic);
  header->layout_version = kLayoutVersion;
  header->payload_version = kPayloadVersion;
  header->slot_capacity = capacity;
  header->published.store(0, std::memory_order_relaxed);
  header->replaced.store(0, std::memory_order_relaxed);
  for (unsigned slot = 0; slot < 2; ++slot)
    new (static_cast<char*>(base) + slotOffset(capacity, slot)) SlotHeader{};
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Status st = errnoStatus("cannot rename " + temp + " to " + path);
    munmap(base, size);
    return st;
  }
  if (base_) {
    // Tell readers of the old region to reopen the path, then let it go.
    static_cast<RegionHeader*>(base_)->replaced.store(1, std::memory_order_release);
    unmap();
  }
  path_ = path;
  base_ = base;
  size_ = size;
  capacity_ = capacity;
  return Status::ok();
}

Expected<uint64_t> SnapshotWriter::publish(const RouteTable& table) {
  return publishPayload(encode(table));
}

Expected<uint64_t> SnapshotWriter::publishPayload(const std::string& payload) {
  if (payload.size() > capacity_) {
    uint64_t capacity = capacity_;
    while (capacity < payload.size()) capacity *= 2;
    if (Status st = map(path_, capacity); !st) return st;
  }
  auto* header = static_cast<RegionHeader*>(base_);
  uint64_t published = header->published.load(std::memory_order_relaxed);
  unsigned slot = published == 0 ? 0 : 1 - static_cast<unsigned>(published & 1);
  char* slot_base = static_cast<char*>(base_) + slotOffset(capacity_, slot);
  auto* slot_header = reinterpret_cast<SlotHeader*>(slot_base);
  uint64_t generation = generation_ + 1;
  payload_bytes_ = payload.size();

  // Seqlock write: odd sequence while inside, even again when done.
  uint64_t sequence = slot_header->sequence.load(std::memory_order_relaxed);
  slot_header->sequence.store(sequence + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(slot_base + kSlotHeaderSize, payload.data(), payload.size());
  slot_header->generation = generation;
  slot_header->payload_size = payload.size();
  slot_header->checksum = checksum(payload.data(), payload.size());
  slot_header->sequence.store(sequence + 2, std::memory_order_release);

  header->published.store(generation << 1 | slot, std::memory_order_release);
  generation_ = generation;
  return generation;
}

}  // namespace portico::proxy
