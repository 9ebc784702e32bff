// SnapshotReader: reads a snapshot file (pread on a descriptor kept open, no mapping, so a file
// truncated in place is a short read, never SIGBUS) and turns each newly published generation
// into a RouteTable. A torn, corrupt, truncated or wrong-version snapshot is rejected with a
// reason and the last good table stays in service.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "operator/base/status.h"
#include "operator/proxy/route_table.h"

namespace portico::proxy {

class SnapshotReader {
public:
  explicit SnapshotReader(std::string path) : path_(std::move(path)) {}
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // Looks for a newer generation (and for a new file renamed over the path). Returns the new table
  // when one was adopted, nullptr when nothing changed or the new one was rejected (see
  // lastError()).
  RouteTableConstSharedPtr poll();

  RouteTableConstSharedPtr current() const { return current_; }
  uint64_t generation() const { return generation_; }
  const Status& lastError() const { return last_error_; }
  uint64_t rejected() const { return rejected_; }

private:
  Status open();
  void close();

  std::string path_;
  int fd_ = -1;      // the file read (pread), kept open while its inode is the path's
  size_t size_ = 0;  // its size when opened
  uint64_t capacity_ = 0;
  uint64_t inode_ = 0;
  uint64_t device_ = 0;
  uint64_t generation_ = 0;
  uint64_t seen_published_ = 0;  // the last `published` value looked at, adopted or not
  RouteTableConstSharedPtr current_;
  Status last_error_;
  uint64_t rejected_ = 0;
  std::string buffer_;  // reused copy of a slot's payload
};

}  // namespace portico::proxy
