#include "operator/proxy/tls_store.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstring>

#include "operator/base/log.h"
#include "operator/base/pem.h"
#include "operator/base/thread_annotations.h"

namespace portico::proxy {

namespace {

// --- Session ticket key ring ------------------------------------------------------------------

struct TicketKey {
  unsigned char name[16];
  unsigned char aes[32];
  unsigned char hmac[32];
};

class TicketKeyRing {
public:
  static TicketKeyRing& instance() {
    static TicketKeyRing ring;
    return ring;
  }
  void rotateIfDue() {
    MutexLock lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (keys_.empty() || now - rotated_ >= std::chrono::hours(1)) {
      TicketKey key;
      RAND_bytes(key.name, sizeof key.name);
      RAND_bytes(key.aes, sizeof key.aes);
      RAND_bytes(key.hmac, sizeof key.hmac);
      keys_.insert(keys_.begin(), key);
      if (keys_.size() > 2) keys_.resize(2);
      rotated_ = now;
    }
  }
  bool current(TicketKey& out) {
    rotateIfDue();
    MutexLock lock(mutex_);
    out = keys_.front();
    return true;
  }
  // 1: found and current; 2: found, but old; 0: unknown.
  int find(const unsigned char* name, TicketKey& out) {
    MutexLock lock(mutex_);
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (std::memcmp(keys_[i].name, name, sizeof keys_[i].name) == 0) {
        out = keys_[i];
        return i == 0 ? 1 : 2;
      }
    }
    return 0;
  }

private:
  Mutex mutex_;
  std::vector<TicketKey> keys_ GUARDED_BY(mutex_);
  std::chrono::steady_clock::time_point rotated_ GUARDED_BY(mutex_);
};

int ticketKeyCallback(SSL*, unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int encrypt) {
  TicketKey key;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_END};
  if (encrypt) {
    TicketKeyRing::instance().current(key);
    std::memcpy(key_name, key.name, 16);
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv) != 1) return -1;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    if (EVP_MAC_CTX_set_params(mac, params) != 1 ||
        EVP_MAC_init(mac, key.hmac, sizeof key.hmac, params) != 1)
      return -1;
    return 1;
  }
  if (TicketKeyRing::instance().find(key_name, key) == 0) return 0;  // unknown: full handshake
  if (EVP_MAC_init(mac, key.hmac, sizeof key.hmac, params) != 1) return -1;
  if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv) != 1) return -1;
  // 2: valid, and issue a fresh ticket. TLS 1.3 tickets are meant for one use (RFC 8446 §8.1,
  // C.4); with 1, OpenSSL sends none after a resumption and the client's next connection falls
  // back to a full handshake (measured: every other handshake was full under wrk).
  return 2;
}

// Whether the client's ALPN list (RFC 7301 §3.1: length-prefixed names) holds `name`; points
// `out` at it.
bool offers(const unsigned char* in, unsigned int in_len, std::string_view name,
            const unsigned char** out, unsigned char* out_len) {
  for (unsigned int i = 0; i < in_len;) {
    unsigned int len = in[i];
    if (i + 1 + len > in_len) break;
    if (len == name.size() && std::memcmp(in + i + 1, name.data(), len) == 0) {
      *out = in + i + 1;
      *out_len = static_cast<unsigned char>(len);
      return true;
    }
    i += 1 + len;
  }
  return false;
}

// HTTP/1.1 only; a client offering only h2 gets no ALPN and speaks HTTP/1.1.
int alpnSelectHttp1(SSL*, const unsigned char** out, unsigned char* out_len,
                    const unsigned char* in, unsigned int in_len, void*) {
  return offers(in, in_len, "http/1.1", out, out_len) ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

// The server's preference: h2, then http/1.1.
int alpnSelectHttp2(SSL*, const unsigned char** out, unsigned char* out_len,
                    const unsigned char* in, unsigned int in_len, void*) {
  return offers(in, in_len, "h2", out, out_len) || offers(in, in_len, "http/1.1", out, out_len)
             ? SSL_TLSEXT_ERR_OK
             : SSL_TLSEXT_ERR_NOACK;
}

int serverNameCallback(SSL* ssl, int* alert, void* arg) {
  const auto* store = static_cast<const TlsStore*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  SSL_CTX* ctx = store->contextFor(name ? name : "");
  if (!ctx) {
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  SSL_set_SSL_CTX(ssl, ctx);
  // SSL_set_SSL_CTX does not carry these over: keep the connection's settings.
  SSL_set_options(ssl, SSL_CTX_get_options(ctx));
  return SSL_TLSEXT_ERR_OK;
}

// The listener's TLS policy. A cipher string OpenSSL rejects leaves the default in place and is
// reported (the class's config validation cannot know OpenSSL's cipher names).
void applyPolicy(SSL_CTX* ctx, const Listeners& policy, std::vector<std::string>* errors) {
  SSL_CTX_set_min_proto_version(
      ctx, policy.tls_min_version == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  if (!policy.tls_ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx, policy.tls_ciphers.c_str()) != 1 && errors)
    errors->push_back("TLS 1.2 cipher list \"" + policy.tls_ciphers +
                      "\" names no cipher OpenSSL knows; the default list stays");
  if (!policy.tls_cipher_suites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, policy.tls_cipher_suites.c_str()) != 1 && errors)
    errors->push_back("TLS 1.3 cipher suites \"" + policy.tls_cipher_suites +
                      "\" name no suite OpenSSL knows; the default suites stay");
  ERR_clear_error();
}

SslCtxPtr baseContext(const Listeners& policy, bool offer_h2, std::vector<std::string>* errors) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return ctx;
  applyPolicy(ctx.get(), policy, errors);
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  // NO_AUTO_CHAIN: the Secret carries the chain; without it OpenSSL tries to build one from the
  // (empty) store on every handshake, which costs more than the handshake's own crypto.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_NO_AUTO_CHAIN);
  SSL_CTX_set_session_cache_mode(ctx.get(),
                                 SSL_SESS_CACHE_OFF);  // tickets only: stateless across workers
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx.get(), ticketKeyCallback);
  SSL_CTX_set_alpn_select_cb(ctx.get(), offer_h2 ? alpnSelectHttp2 : alpnSelectHttp1, nullptr);
  return ctx;
}

std::string digestOf(const TlsCertificate& cert, const Listeners& policy) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  EVP_DigestUpdate(md, cert.cert_chain_pem.data(), cert.cert_chain_pem.size());
  EVP_DigestUpdate(md, cert.private_key_pem.data(), cert.private_key_pem.size());
  // A policy change must build new contexts.
  for (const std::string* part :
       {&policy.tls_min_version, &policy.tls_ciphers, &policy.tls_cipher_suites}) {
    EVP_DigestUpdate(md, part->data(), part->size());
    EVP_DigestUpdate(md, "\n", 1);
  }
  EVP_DigestFinal_ex(md, out, &len);
  EVP_MD_CTX_free(md);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::shared_ptr<SSL_CTX> contextForCertificate(const TlsCertificate& cert, const Listeners& policy,
                                               bool offer_h2, std::string& error) {
  SslCtxPtr ctx = baseContext(policy, offer_h2, nullptr);
  auto chain = parseCertificateChain(cert.cert_chain_pem);
  auto key = parsePrivateKey(cert.private_key_pem);
  if (!ctx || !chain || !key) {
    error = cert.source + ": the certificate or key does not parse";
    return nullptr;
  }
  bool ok = SSL_CTX_use_certificate(ctx.get(), (*chain)[0].get()) == 1;
  for (size_t i = 1; ok && i < chain->size(); ++i)
    ok = SSL_CTX_add1_chain_cert(ctx.get(), (*chain)[i].get()) == 1;
  ok = ok && SSL_CTX_use_PrivateKey(ctx.get(), key->get()) == 1 &&
       SSL_CTX_check_private_key(ctx.get()) == 1;
  ERR_clear_error();
  if (!ok) {
    error = cert.source + ": OpenSSL refused the certificate or key";
    return nullptr;
  }
  return std::shared_ptr<SSL_CTX>(ctx.release(), SSL_CTX_free);
}

}  // namespace

void rotateTicketKeysIfDue() {
  TicketKeyRing::instance().rotateIfDue();
}

SSL_CTX* TlsStore::contextFor(std::string_view server_name) const {
  std::string host;
  if (!normalizeHost(server_name, host)) host.clear();
  int32_t index = table_->certificateFor(host);
  if (index < 0 || static_cast<size_t>(index) >= contexts_.size()) return nullptr;
  return contexts_[index].get();
}

std::shared_ptr<const TlsStore> TlsStoreBuilder::build(const RouteTableConstSharedPtr& table,
                                                       std::vector<std::string>* errors) {
  rotateTicketKeysIfDue();
  auto store = std::make_shared<TlsStore>();
  store->table_ = table;
  // The class's config turns HTTP/2 on (spec.listeners.https.http2), or the command line does.
  const bool offer_h2 = offer_h2_ || table->listeners().http2;
  MutexLock lock(mutex_);
  std::unordered_map<std::string, std::shared_ptr<SSL_CTX>> kept;
  for (const auto& cert : table->certificates()) {
    std::string digest = digestOf(cert, table->listeners()) + (offer_h2 ? "h2" : "");
    std::shared_ptr<SSL_CTX> ctx;
    if (auto it = cache_.find(digest); it != cache_.end()) {
      ctx = it->second;
    } else {
      std::string error;
      ctx = contextForCertificate(cert, table->listeners(), offer_h2, error);
      if (!ctx && errors) errors->push_back(error);
    }
    if (ctx) kept[digest] = ctx;
    store->contexts_.push_back(ctx);  // may be null: that name then fails the handshake
  }
  cache_ = std::move(kept);  // certificates no longer served are released
  // The accepting context's policy is what the handshake negotiates with (the SNI callback
  // swaps only the certificate), so its errors are the ones reported.
  store->accept_ = baseContext(table->listeners(), offer_h2, errors);
  SSL_CTX_set_tlsext_servername_callback(store->accept_.get(), serverNameCallback);
  SSL_CTX_set_tlsext_servername_arg(store->accept_.get(), store.get());
  return store;
}

}  // namespace portico::proxy
