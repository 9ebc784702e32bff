// Limits and timeouts of the proxy. They come from the class's IngressClassConfig (spec.proxy)
// through the snapshot, so a change applies at each worker's next loop turn without a restart;
// `portico proxy` flags given on the command line win over the snapshot's values.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

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
  // Server header: on the proxy's own responses, and on proxied ones whose backend sent none.
  // "" adds none (a backend's own Server header always passes unchanged).
  std::string server_header = "portico";
  // ALPN offers h2 on the HTTPS listener. Off by default while HTTP/2 support is completed
  // (issue 14); `portico proxy --http2` turns it on.
  bool http2 = false;
};

// The class's settings as the snapshot carries them (IngressClassConfig spec.proxy).
struct ClassProxySettings {
  bool present = false;  // false: the snapshot names none (the proxy's own settings apply)
  uint32_t header_timeout_seconds = 30;
  uint32_t idle_timeout_seconds = 60;
  uint32_t connect_timeout_seconds = 5;
  uint32_t upstream_timeout_seconds = 60;  // also the client-body silence limit
  uint64_t max_head_bytes = 64 * 1024;
  uint64_t max_body_bytes = 0;
  bool access_log = false;
  std::string server_header = "portico";
  bool operator==(const ClassProxySettings&) const = default;
};

// Which settings the command line set explicitly.
struct ExplicitSettings {
  bool header_timeout = false;
  bool idle_timeout = false;
  bool connect_timeout = false;
  bool upstream_timeout = false;
  bool max_head_bytes = false;
  bool max_body_bytes = false;
  bool access_log = false;
  bool server_header = false;
};

// `base` with the class's settings applied, except those the command line set.
ProxySettings effectiveSettings(const ProxySettings& base, const ExplicitSettings& explicit_flags,
                                const ClassProxySettings& from_class);

}  // namespace portico::proxy
