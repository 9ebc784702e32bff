#include "operator/proxy/snapshot_codec.h"

#include <cstring>

#include "operator/proxy/snapshot_format.h"

namespace portico::proxy::snapshot {

uint64_t checksum(const void* data, size_t size) {
  // FNV-1a 64: detects corruption and torn copies; not a defence against a hostile writer (the
  // file is 0600 and written by this program only).
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

namespace {

class Writer {
public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { raw(&v, 2); }
  void u32(uint32_t v) { raw(&v, 4); }
  void i32(int32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }  // x86/ARM: LE
  std::string out_;
};

class Reader {
public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  uint8_t u8() { return fixed<uint8_t>(); }
  uint16_t u16() { return fixed<uint16_t>(); }
  uint32_t u32() { return fixed<uint32_t>(); }
  int32_t i32() { return fixed<int32_t>(); }
  uint64_t u64() { return fixed<uint64_t>(); }
  std::string str() {
    uint32_t n = u32();
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of items each at least `min_item_bytes` long: bounded by what remains, so a corrupt
  // count cannot make us reserve gigabytes.
  uint32_t count(size_t min_item_bytes) {
    uint32_t n = u32();
    if (!ok_ || static_cast<uint64_t>(n) * min_item_bytes > in_.size() - pos_) {
      ok_ = false;
      return 0;
    }
    return n;
  }

private:
  template <typename T>
  T fixed() {
    T v{};
    if (!ok_ || sizeof(T) > in_.size() - pos_) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

std::string encode(const RouteTable& table) {
  Writer w;
  w.u32(kPayloadVersion);
  w.str(table.listeners().address);
  w.u16(table.listeners().http_port);
  w.u16(table.listeners().https_port);
  w.str(table.listeners().tls_min_version);
  w.str(table.listeners().tls_ciphers);
  w.str(table.listeners().tls_cipher_suites);
  w.str(table.listeners().hsts);
  w.u8(table.listeners().http2 ? 1 : 0);
  const ClassProxySettings& proxy = table.listeners().proxy;
  w.u8(proxy.present ? 1 : 0);
  w.u32(proxy.header_timeout_seconds);
  w.u32(proxy.idle_timeout_seconds);
  w.u32(proxy.connect_timeout_seconds);
  w.u32(proxy.upstream_timeout_seconds);
  w.u64(proxy.max_head_bytes);
  w.u64(proxy.max_body_bytes);
  w.u8(proxy.access_log ? 1 : 0);
  w.str(proxy.server_header);
  w.u32(static_cast<uint32_t>(table.backends().size()));
  for (const auto& b : table.backends()) {
    w.str(b.name);
    w.str(b.problem);
    w.u32(static_cast<uint32_t>(b.endpoints.size()));
    for (const auto& e : b.endpoints) {
      w.str(e.address);
      w.u16(e.port);
    }
  }
  w.u32(static_cast<uint32_t>(table.routes().size()));
  for (const auto& r : table.routes()) {
    w.str(r.host);
    w.str(r.path);
    w.u8(static_cast<uint8_t>(r.match));
    w.u32(r.backend);
    w.u8(r.options.ssl_redirect ? 1 : 0);
    w.str(r.source);
  }
  w.i32(table.defaultBackend());
  w.u32(static_cast<uint32_t>(table.certificates().size()));
  for (const auto& c : table.certificates()) {
    w.u32(static_cast<uint32_t>(c.names.size()));
    for (const auto& n : c.names) w.str(n);
    w.str(c.cert_chain_pem);
    w.str(c.private_key_pem);
    w.str(c.source);
  }
  w.i32(table.defaultCertificate());
  w.u32(static_cast<uint32_t>(table.acmeTokens().size()));
  for (const auto& [token, key_authorization] : table.acmeTokens()) {
    w.str(token);
    w.str(key_authorization);
  }
  return w.take();
}

Expected<RouteTable> decode(std::string_view payload) {
  auto corrupt = [](const char* what) {
    return Status(ErrorCode::DecodeError, std::string("snapshot payload is corrupt: ") + what);
  };
  Reader r(payload);
  uint32_t version = r.u32();
  if (!r.ok()) return corrupt("too short");
  if (version != kPayloadVersion)
    return Status(ErrorCode::DecodeError, "snapshot payload version " + std::to_string(version) +
                                              " is not the supported " +
                                              std::to_string(kPayloadVersion));
  Listeners listeners;
  listeners.address = r.str();
  listeners.http_port = r.u16();
  listeners.https_port = r.u16();
  listeners.tls_min_version = r.str();
  listeners.tls_ciphers = r.str();
  listeners.tls_cipher_suites = r.str();
  listeners.hsts = r.str();
  listeners.http2 = r.u8() != 0;
  listeners.proxy.present = r.u8() != 0;
  listeners.proxy.header_timeout_seconds = r.u32();
  listeners.proxy.idle_timeout_seconds = r.u32();
  listeners.proxy.connect_timeout_seconds = r.u32();
  listeners.proxy.upstream_timeout_seconds = r.u32();
  listeners.proxy.max_head_bytes = r.u64();
  listeners.proxy.max_body_bytes = r.u64();
  listeners.proxy.access_log = r.u8() != 0;
  listeners.proxy.server_header = r.str();
  for (char c : listeners.proxy.server_header) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f)
      return corrupt("control character in the Server header");
  }

  std::vector<Backend> backends(r.count(12));
  for (auto& b : backends) {
    b.name = r.str();
    b.problem = r.str();
    b.endpoints.resize(r.count(6));
    for (auto& e : b.endpoints) {
      e.address = r.str();
      e.port = r.u16();
    }
  }
  std::vector<Route> routes(r.count(18));
  for (auto& route : routes) {
    route.host = r.str();
    route.path = r.str();
    uint8_t match = r.u8();
    if (match > 1) return corrupt("unknown path match");
    route.match = static_cast<PathMatch>(match);
    route.backend = r.u32();
    if (r.ok() && route.backend >= backends.size()) return corrupt("route names a missing backend");
    route.options.ssl_redirect = r.u8() != 0;
    route.source = r.str();
  }
  int32_t default_backend = r.i32();
  if (r.ok() && (default_backend < -1 || default_backend >= static_cast<int32_t>(backends.size())))
    return corrupt("default backend out of range");
  std::vector<TlsCertificate> certificates(r.count(16));
  for (auto& c : certificates) {
    c.names.resize(r.count(4));
    for (auto& n : c.names) n = r.str();
    c.cert_chain_pem = r.str();
    c.private_key_pem = r.str();
    c.source = r.str();
  }
  int32_t default_certificate = r.i32();
  if (r.ok() && (default_certificate < -1 ||
                 default_certificate >= static_cast<int32_t>(certificates.size())))
    return corrupt("default certificate out of range");
  std::map<std::string, std::string> tokens;
  uint32_t token_count = r.count(8);
  for (uint32_t i = 0; i < token_count && r.ok(); ++i) {
    std::string token = r.str();
    tokens[token] = r.str();
  }
  if (!r.ok()) return corrupt("truncated");
  if (!r.done()) return corrupt("trailing bytes");
  return RouteTable(std::move(backends), std::move(routes), default_backend,
                    std::move(certificates), default_certificate, std::move(tokens),
                    std::move(listeners));
}

}  // namespace portico::proxy::snapshot
