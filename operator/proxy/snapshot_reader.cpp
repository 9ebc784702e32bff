#include "operator/proxy/snapshot_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "operator/proxy/snapshot_codec.h"
#include "operator/proxy/snapshot_format.h"

namespace portico::proxy {

using namespace snapshot;

SnapshotReader::~SnapshotReader() {
  close();
}

void SnapshotReader::close() {
  if (base_) munmap(const_cast<void*>(base_), size_);
  base_ = nullptr;
}

Status SnapshotReader::open() {
  close();
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(ErrorCode::NotFound, path_ + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) < kRegionHeaderSize) {
    ::close(fd);
    return Status(ErrorCode::DecodeError, path_ + ": too small to be a snapshot");
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* base = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED)
    return Status(ErrorCode::Unavailable, path_ + ": " + std::strerror(errno));
  const auto* header = static_cast<const RegionHeader*>(base);
  Status error;
  if (std::memcmp(header->magic, kMagic, sizeof kMagic) != 0)
    error = Status(ErrorCode::DecodeError, path_ + ": not a Portico snapshot (bad magic)");
  else if (header->layout_version != kLayoutVersion)
    error = Status(ErrorCode::DecodeError, path_ + ": snapshot layout version " +
                                               std::to_string(header->layout_version) +
                                               ", expected " + std::to_string(kLayoutVersion));
  else if (regionSize(header->slot_capacity) != size)
    error = Status(ErrorCode::DecodeError, path_ + ": snapshot size does not match its header");
  if (!error.isOk()) {
    munmap(base, size);
    return error;
  }
  base_ = base;
  size_ = size;
  capacity_ = header->slot_capacity;
  inode_ = st.st_ino;
  device_ = st.st_dev;
  seen_published_ = 0;
  generation_ = 0;  // a new file counts its generations afresh; the current table stays until then
  return Status::ok();
}

RouteTableConstSharedPtr SnapshotReader::poll() {
  auto reject = [this](Status error) -> RouteTableConstSharedPtr {
    last_error_ = std::move(error);
    ++rejected_;
    return nullptr;
  };
  if (base_ && static_cast<const RegionHeader*>(base_)->replaced.load(std::memory_order_acquire))
    close();
  // Another writer (a restarted operator, `portico snapshot compile`) may have renamed a new file
  // over the path: follow the path, not the old inode.
  if (base_) {
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && (st.st_ino != inode_ || st.st_dev != device_)) close();
  }
  if (!base_) {
    if (Status st = open(); !st) return reject(st);
  }
  const auto* header = static_cast<const RegionHeader*>(base_);
  uint64_t published = header->published.load(std::memory_order_acquire);
  if (published == 0 || published == seen_published_) return nullptr;
  uint64_t generation = published >> 1;
  if (generation <= generation_) {
    seen_published_ = published;
    return nullptr;
  }
  unsigned slot = static_cast<unsigned>(published & 1);
  const char* slot_base = static_cast<const char*>(base_) + slotOffset(capacity_, slot);
  const auto* slot_header = reinterpret_cast<const SlotHeader*>(slot_base);

  uint64_t before = slot_header->sequence.load(std::memory_order_acquire);
  uint64_t size = slot_header->payload_size;
  uint64_t sum = slot_header->checksum;
  uint64_t slot_generation = slot_header->generation;
  if (before & 1) return nullptr;  // the writer is inside: look again next turn
  if (size > capacity_)
    return reject(Status(ErrorCode::DecodeError, "snapshot payload size exceeds its slot"));
  buffer_.assign(slot_base + kSlotHeaderSize, size);
  std::atomic_thread_fence(std::memory_order_acquire);
  uint64_t after = slot_header->sequence.load(std::memory_order_relaxed);
  if (before != after)
    return nullptr;  // torn by a writer lapping us: the next turn sees a newer one
  seen_published_ = published;
  if (slot_generation != generation)
    return reject(Status(ErrorCode::DecodeError, "snapshot slot holds generation " +
                                                     std::to_string(slot_generation) + ", not " +
                                                     std::to_string(generation)));
  if (checksum(buffer_.data(), buffer_.size()) != sum)
    return reject(Status(ErrorCode::DecodeError, "snapshot checksum mismatch"));
  auto table = decode(buffer_);
  if (!table) return reject(table.error());
  current_ = std::make_shared<const RouteTable>(std::move(*table));
  generation_ = generation;
  last_error_ = Status::ok();
  return current_;
}

}  // namespace portico::proxy
