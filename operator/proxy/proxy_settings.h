// Limits and timeouts of the embedded proxy (IngressClassConfig will carry them per class).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace portico::proxy {

struct ProxySettings {
  std::chrono::milliseconds header_timeout{30000};  // a request head must arrive in this (408)
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive client connections
  std::chrono::milliseconds connect_timeout{5000};  // to an upstream endpoint (then the next one)
  std::chrono::milliseconds upstream_timeout{
      60000};                                     // upstream silence while a response is due (504)
  std::chrono::milliseconds body_timeout{60000};  // client silence while sending a body (408)
  size_t max_head_bytes = 64 * 1024;              // 431 beyond
  uint64_t max_body_bytes = 0;                    // 413 beyond; 0 = unlimited
  size_t buffer_high_water = 256 * 1024;          // stop reading a side while the other lags
  bool access_log = false;                        // one JSON line per request on stderr
  uint16_t redirect_https_port = 0;  // the port HTTP→HTTPS redirects name; 0: the table's listener
};

}  // namespace portico::proxy
