#include "operator/proxy/snapshot_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "operator/proxy/snapshot_codec.h"
#include "operator/proxy/snapshot_format.h"

namespace portico::proxy {

using namespace snapshot;

namespace {

// The region is read with pread, never through a mapping: a file truncated or overwritten in
// place by someone else gives a short read (an error), where a mapped page past the end of the
// file would kill the process with SIGBUS.
bool readAt(int fd, void* out, size_t size, size_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n =
        ::pread(fd, static_cast<char*>(out) + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

template <typename T>
bool readValue(int fd, T& out, size_t offset) {
  return readAt(fd, &out, sizeof out, offset);
}

}  // namespace

SnapshotReader::~SnapshotReader() {
  close();
}

void SnapshotReader::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
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
  char magic[sizeof kMagic];
  uint32_t layout_version = 0;
  uint64_t capacity = 0;
  Status error;
  if (!readAt(fd, magic, sizeof magic, offsetof(RegionHeader, magic)) ||
      !readValue(fd, layout_version, offsetof(RegionHeader, layout_version)) ||
      !readValue(fd, capacity, offsetof(RegionHeader, slot_capacity)))
    error = Status(ErrorCode::DecodeError, path_ + ": truncated snapshot header");
  else if (std::memcmp(magic, kMagic, sizeof kMagic) != 0)
    error = Status(ErrorCode::DecodeError, path_ + ": not a Portico snapshot (bad magic)");
  else if (layout_version != kLayoutVersion)
    error = Status(ErrorCode::DecodeError, path_ + ": snapshot layout version " +
                                               std::to_string(layout_version) + ", expected " +
                                               std::to_string(kLayoutVersion));
  else if (capacity > (uint64_t{1} << 40) || regionSize(capacity) != size)
    error = Status(ErrorCode::DecodeError, path_ + ": snapshot size does not match its header");
  if (!error.isOk()) {
    ::close(fd);
    return error;
  }
  fd_ = fd;
  size_ = size;
  capacity_ = capacity;
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
  uint32_t replaced = 0;
  if (fd_ >= 0 && readValue(fd_, replaced, offsetof(RegionHeader, replaced)) && replaced) close();
  // Another writer (a restarted operator, `portico snapshot compile`) may have renamed a new file
  // over the path: follow the path, not the old inode. A file changed in size under us was
  // written over in place: read it afresh (and most likely reject it).
  if (fd_ >= 0) {
    struct stat st {};
    struct stat own {};
    if ((::stat(path_.c_str(), &st) == 0 && (st.st_ino != inode_ || st.st_dev != device_)) ||
        fstat(fd_, &own) != 0 || static_cast<size_t>(own.st_size) != size_)
      close();
  }
  if (fd_ < 0) {
    if (Status st = open(); !st) return reject(st);
  }
  uint64_t published = 0;
  if (!readValue(fd_, published, offsetof(RegionHeader, published))) {
    close();
    return reject(Status(ErrorCode::DecodeError, path_ + ": truncated snapshot header"));
  }
  if (published == 0 || published == seen_published_) return nullptr;
  uint64_t generation = published >> 1;
  if (generation <= generation_) {
    seen_published_ = published;
    return nullptr;
  }
  unsigned slot = static_cast<unsigned>(published & 1);
  const size_t slot_base = slotOffset(capacity_, slot);
  uint64_t before = 0, size = 0, sum = 0, slot_generation = 0;
  if (!readValue(fd_, before, slot_base + offsetof(SlotHeader, sequence)) ||
      !readValue(fd_, size, slot_base + offsetof(SlotHeader, payload_size)) ||
      !readValue(fd_, sum, slot_base + offsetof(SlotHeader, checksum)) ||
      !readValue(fd_, slot_generation, slot_base + offsetof(SlotHeader, generation))) {
    close();
    return reject(Status(ErrorCode::DecodeError, path_ + ": truncated snapshot slot"));
  }
  if (before & 1) return nullptr;  // the writer is inside: look again next turn
  if (size > capacity_)
    return reject(Status(ErrorCode::DecodeError, "snapshot payload size exceeds its slot"));
  buffer_.resize(size);
  uint64_t after = 0;
  if (!readAt(fd_, buffer_.data(), size, slot_base + kSlotHeaderSize) ||
      !readValue(fd_, after, slot_base + offsetof(SlotHeader, sequence))) {
    close();
    return reject(Status(ErrorCode::DecodeError, path_ + ": truncated snapshot payload"));
  }
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
