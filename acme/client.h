// AcmeClient: RFC 8555 over HttpTransport. Every POST is a JWS signed with the account key; a
// nonce comes from the pool the server's Replay-Nonce headers refill (newNonce when it is empty)
// and a badNonce answer is retried with the fresh nonce that came with it (§6.5). Errors are the
// server's problem documents as Status; lastRetryAfter() keeps the server's pacing hint.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "acme/directory.h"
#include "acme/jwk.h"
#include "acme/objects.h"
#include "operator/base/http_transport.h"
#include "operator/base/thread_annotations.h"

namespace portico::acme {

struct AcmeClientOptions {
  std::chrono::milliseconds timeout{30000};
  int bad_nonce_retries = 10;  // each with the fresh nonce the rejection carried
  std::string user_agent = "portico-acme";
};

struct ExternalAccountKey {
  std::string key_id;
  std::string hmac_key_b64url;
};

struct NewAccountRequest {
  std::string email;  // "" = no contact
  bool terms_agreed = true;
  bool only_return_existing = false;
  std::optional<ExternalAccountKey> eab;
};

struct CertificateChain {
  std::string pem;                      // leaf first, then the chain
  std::vector<std::string> alternates;  // URLs of alternate chains (Link rel="alternate")
};

// An RFC 9773 suggested renewal window.
struct RenewalWindow {
  std::chrono::system_clock::time_point start, end;
  std::string explanation_url;
  std::optional<std::chrono::seconds> retry_after;  // when to ask again
};

class AcmeClient {
public:
  AcmeClient(HttpTransport& transport, std::string directory_url, AccountKey key,
             AcmeClientOptions options = {});

  Expected<Directory> directory();
  // Registers the key, or finds its existing account (the CA answers 200 for a known key).
  Expected<Account> account(const NewAccountRequest& request);
  // Use an account URL remembered from before (no request).
  void setAccountUrl(std::string url) {
    MutexLock lock(state_mutex_);
    account_url_ = std::move(url);
  }
  std::string accountUrl() const {
    MutexLock lock(state_mutex_);
    return account_url_;
  }

  Expected<Order> newOrder(const std::vector<std::string>& dns_names,
                           const std::string& profile = "", const std::string& replaces = "");
  Expected<Order> order(const std::string& url);
  Expected<Authorization> authorization(const std::string& url);
  // Tells the CA the challenge is ready to be validated.
  Expected<Challenge> respond(const std::string& challenge_url);
  Expected<Order> finalize(const Order& order, const std::string& csr_der);
  Expected<CertificateChain> certificate(const std::string& url);
  // RFC 9773: the window for a certificate (PEM leaf); NotFound when the CA offers no ARI.
  Expected<RenewalWindow> renewalInfo(const std::string& leaf_pem);

  Expected<std::string> thumbprint() const { return jwkThumbprint(key_.key.get()); }
  // The Retry-After of the last answer (any thread's: one CA, one account).
  std::optional<std::chrono::seconds> lastRetryAfter() const {
    MutexLock lock(state_mutex_);
    return last_retry_after_;
  }
  long badNonceRetries() const { return bad_nonce_retries_.load(); }
  // True once the CA said the account no longer exists (RFC 8555 §6.7 accountDoesNotExist: a
  // CA that lost its state, a deactivated account): the owner registers the key again.
  bool accountLost() const { return account_lost_.load(); }

private:
  struct Reply {
    HttpResponse response;
    nlohmann::json body;  // parsed JSON (null when the body is not JSON)
  };
  // POST a JWS; `payload` nullopt = POST-as-GET. `jwk` embeds the key instead of the kid.
  // `endpoint` names the RFC 8555 resource for metrics (newOrder, finalize, ...).
  Expected<Reply> post(const char* endpoint, const std::string& url,
                       const std::optional<nlohmann::json>& payload, bool jwk = false);
  Expected<std::string> takeNonce();
  // A request with the client's timeout and User-Agent (the JWS, if any, is added by post()).
  HttpRequest unsignedRequest(const std::string& method, const std::string& url) const;
  // Every request goes through here: sent, timed and counted by endpoint and status.
  Expected<HttpResponse> exchange(const char* endpoint, const HttpRequest& request);
  void keepNonce(const HttpResponse& response);

  HttpTransport& transport_;
  std::string directory_url_;
  AccountKey key_;
  AcmeClientOptions options_;
  // One client serves every Certificate worker at once: what answers change is guarded.
  mutable Mutex state_mutex_;
  std::optional<Directory> directory_ GUARDED_BY(state_mutex_);
  std::string account_url_ GUARDED_BY(state_mutex_);
  std::optional<std::chrono::seconds> last_retry_after_ GUARDED_BY(state_mutex_);
  Mutex nonce_mutex_;
  std::deque<std::string> nonces_ GUARDED_BY(nonce_mutex_);
  std::atomic<long> bad_nonce_retries_{0};
  std::atomic<bool> account_lost_{false};
};

// The ARI certID (RFC 9773 §4.1): base64url(AKI keyIdentifier) "." base64url(serial DER bytes).
Expected<std::string> ariCertId(const std::string& leaf_pem);
Expected<RenewalWindow> parseRenewalInfo(const std::string& body);

// Among the default chain and its alternates, the first whose certificates include one issued by
// (or named) `preferred` (issuer/subject CN); 0 (the default) when none does or none is wanted.
size_t choosePreferredChain(const std::vector<std::string>& chains_pem,
                            const std::string& preferred);

}  // namespace portico::acme
