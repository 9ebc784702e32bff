// SnapshotWriter: the one writer of a snapshot file (mode 0600). See snapshot_format.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "operator/base/status.h"
#include "operator/proxy/route_table.h"

namespace portico::proxy {

class SnapshotWriter {
public:
  // Creates (or takes over) the file at `path`, with slots of at least `initial_capacity` bytes.
  static Expected<std::unique_ptr<SnapshotWriter>> create(const std::string& path,
                                                          uint64_t initial_capacity = 1 << 20);
  ~SnapshotWriter();

  // Encodes and publishes `table` as the next generation; returns that generation.
  Expected<uint64_t> publish(const RouteTable& table);
  // Publishes already-encoded payload bytes (tests use this to publish garbage).
  Expected<uint64_t> publishPayload(const std::string& payload);

  uint64_t generation() const { return generation_; }
  const std::string& path() const { return path_; }
  uint64_t slotCapacity() const { return capacity_; }
  uint64_t payloadBytes() const { return payload_bytes_; }  // of the last publication

private:
  SnapshotWriter() = default;
  Status map(const std::string& path, uint64_t capacity);
  void unmap();

  std::string path_;
  void* base_ = nullptr;
  size_t size_ = 0;
  uint64_t capacity_ = 0;
  uint64_t generation_ = 0;
  uint64_t payload_bytes_ = 0;
};

}  // namespace portico::proxy
