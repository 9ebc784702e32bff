// The shared-memory route snapshot: how the control plane hands a RouteTable to every proxy
// worker (and to a separate `portico proxy` process) without locks on the reader's side.
//
// File layout (little-endian, standard-layout structs only, no pointers):
//   RegionHeader                      at offset 0, kRegionHeaderSize bytes
//   SlotHeader + payload  × 2         slot i at kRegionHeaderSize + i * (kSlotHeaderSize +
//   capacity)
//
// One writer. To publish generation G it writes into the slot that is not active, bracketed by
// the slot's sequence counter (odd while writing: a seqlock), then release-stores
// `published = G << 1 | slot`. A reader acquire-loads `published`, copies the slot's payload,
// re-checks the sequence (a writer lapping it shows as a changed or odd sequence: torn), checks
// size and checksum, and decodes. Any failure keeps the reader's last good table.
// When a payload outgrows the slots, the writer builds a larger file beside the old one, renames
// it over the path, and marks the old region `replaced` so readers reopen the path.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace portico::proxy::snapshot {

inline constexpr char kMagic[8] = {'P', 'O', 'R', 'T', 'I', 'C', 'O', '1'};
inline constexpr uint32_t kLayoutVersion = 1;  // the region and slot headers
// The encoding of a RouteTable in a payload. 2: listener TLS policy and HSTS.
// 3: the class's proxy settings; 4: Server header; 5: HTTP/2 on the HTTPS listener.
inline constexpr uint32_t kPayloadVersion = 5;

struct RegionHeader {
  char magic[8];
  uint32_t layout_version;
  uint32_t payload_version;
  uint64_t slot_capacity;           // payload bytes each slot can hold
  std::atomic<uint64_t> published;  // generation << 1 | active slot; 0 = nothing yet
  std::atomic<uint32_t> replaced;   // 1: a larger region replaced this file; reopen the path
  uint32_t reserved;
};

struct SlotHeader {
  std::atomic<uint64_t> sequence;  // odd while the writer is inside
  uint64_t generation;
  uint64_t payload_size;
  uint64_t checksum;  // FNV-1a 64 of the payload bytes
};

inline constexpr size_t kRegionHeaderSize = 64;
inline constexpr size_t kSlotHeaderSize = 64;
static_assert(sizeof(RegionHeader) <= kRegionHeaderSize);
static_assert(sizeof(SlotHeader) <= kSlotHeaderSize);
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "shared-memory atomics must be lock-free");

inline size_t regionSize(uint64_t slot_capacity) {
  return kRegionHeaderSize + 2 * (kSlotHeaderSize + slot_capacity);
}
inline size_t slotOffset(uint64_t slot_capacity, unsigned slot) {
  return kRegionHeaderSize + slot * (kSlotHeaderSize + slot_capacity);
}

uint64_t checksum(const void* data, size_t size);

}  // namespace portico::proxy::snapshot
