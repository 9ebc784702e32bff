// RouteTable ⇄ snapshot payload bytes: a sequential, length-prefixed little-endian encoding
// (relocatable: no pointers, no offsets into memory). The decoder trusts nothing: every length
// and index is checked against what is there, so a corrupt payload is an error, never a crash.
#pragma once

#include <string>
#include <string_view>

#include "operator/base/status.h"
#include "operator/proxy/route_table.h"

namespace portico::proxy::snapshot {

std::string encode(const RouteTable& table);
Expected<RouteTable> decode(std::string_view payload);

}  // namespace portico::proxy::snapshot
