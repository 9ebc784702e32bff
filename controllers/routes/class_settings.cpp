#include "controllers/routes/class_settings.h"

namespace portico::controllers::routes {

void applyClassSettings(const crds::IngressClassConfigSpec& spec, RouteInputs& inputs) {
  inputs.listeners.address = spec.listeners.address;
  inputs.listeners.http_port = static_cast<uint16_t>(spec.listeners.http_port);
  inputs.listeners.https_port = static_cast<uint16_t>(spec.listeners.https_port);
  inputs.listeners.http2 = spec.listeners.http2;
  inputs.listeners.tls_min_version = spec.tls.min_version;
  inputs.listeners.tls_ciphers = spec.tls.ciphers;
  inputs.listeners.tls_cipher_suites = spec.tls.cipher_suites;
  inputs.listeners.hsts.clear();
  if (spec.hsts.enabled) {
    inputs.listeners.hsts = "max-age=" + std::to_string(spec.hsts.max_age_seconds);
    if (spec.hsts.include_subdomains) inputs.listeners.hsts += "; includeSubDomains";
    if (spec.hsts.preload) inputs.listeners.hsts += "; preload";
  }
  proxy::ClassProxySettings& tuning = inputs.listeners.proxy;
  tuning.present = true;
  tuning.header_timeout_seconds = static_cast<uint32_t>(spec.proxy.header_timeout_seconds);
  tuning.idle_timeout_seconds = static_cast<uint32_t>(spec.proxy.idle_timeout_seconds);
  tuning.connect_timeout_seconds = static_cast<uint32_t>(spec.proxy.connect_timeout_seconds);
  tuning.upstream_timeout_seconds = static_cast<uint32_t>(spec.proxy.upstream_timeout_seconds);
  tuning.max_head_bytes = static_cast<uint64_t>(spec.proxy.max_header_bytes);
  tuning.max_body_bytes = static_cast<uint64_t>(spec.proxy.max_body_bytes);
  tuning.access_log = spec.proxy.access_log;
  tuning.server_header = spec.proxy.server_header;
  inputs.default_certificate = spec.default_certificate;
  inputs.ssl_redirect_default = spec.ssl_redirect;
}

}  // namespace portico::controllers::routes
