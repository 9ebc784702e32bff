#include "operator/proxy/proxy_settings.h"

namespace portico::proxy {

ProxySettings effectiveSettings(const ProxySettings& base, const ExplicitSettings& explicit_flags,
                                const ClassProxySettings& from_class) {
  ProxySettings out = base;
  if (!from_class.present) return out;
  using std::chrono::seconds;
  if (!explicit_flags.header_timeout)
    out.header_timeout = seconds(from_class.header_timeout_seconds);
  if (!explicit_flags.idle_timeout) out.idle_timeout = seconds(from_class.idle_timeout_seconds);
  if (!explicit_flags.connect_timeout)
    out.connect_timeout = seconds(from_class.connect_timeout_seconds);
  if (!explicit_flags.upstream_timeout) {
    out.upstream_timeout = seconds(from_class.upstream_timeout_seconds);
    out.body_timeout = seconds(from_class.upstream_timeout_seconds);
  }
  if (!explicit_flags.max_head_bytes)
    out.max_head_bytes = static_cast<size_t>(from_class.max_head_bytes);
  if (!explicit_flags.max_body_bytes) out.max_body_bytes = from_class.max_body_bytes;
  if (!explicit_flags.access_log) out.access_log = from_class.access_log;
  if (!explicit_flags.server_header) out.server_header = from_class.server_header;
  return out;
}

}  // namespace portico::proxy
