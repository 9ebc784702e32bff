#include "acme/client.h"

#include <openssl/x509v3.h>

#include "acme/jws.h"
#include "operator/base/base64.h"
#include "operator/base/log.h"
#include "operator/base/metrics.h"
#include "operator/base/pem.h"
#include "operator/base/thread_annotations.h"
#include "operator/base/time_format.h"

namespace portico::acme {

namespace {

std::string locationOf(const HttpResponse& response) {
  return response.header("Location");
}

// Link: <url>;rel="alternate", <url2>;rel="up" (RFC 8288); returns the URLs with that relation.
std::vector<std::string> linksWithRel(const HttpResponse& response, const std::string& rel) {
  std::vector<std::string> out;
  for (const auto& h : response.headers) {
    if (h.name.size() != 4 || strncasecmp(h.name.c_str(), "link", 4) != 0) continue;
    size_t pos = 0;
    while ((pos = h.value.find('<', pos)) != std::string::npos) {
      size_t end = h.value.find('>', pos);
      if (end == std::string::npos) break;
      std::string url = h.value.substr(pos + 1, end - pos - 1);
      size_t next = h.value.find('<', end);
      std::string params =
          h.value.substr(end + 1, next == std::string::npos ? std::string::npos : next - end - 1);
      if (params.find("rel=\"" + rel + "\"") != std::string::npos ||
          params.find("rel=" + rel) != std::string::npos)
        out.push_back(url);
      pos = end;
    }
  }
  return out;
}

std::string commonName(X509_NAME* name) {
  char buffer[256] = {0};
  int len = X509_NAME_get_text_by_NID(name, NID_commonName, buffer, sizeof buffer);
  return len > 0 ? std::string(buffer, static_cast<size_t>(len)) : std::string();
}

}  // namespace

AcmeClient::AcmeClient(HttpTransport& transport, std::string directory_url, AccountKey key,
                       AcmeClientOptions options)
    : transport_(transport),
      directory_url_(std::move(directory_url)),
      key_(std::move(key)),
      options_(std::move(options)) {}

HttpRequest AcmeClient::unsignedRequest(const std::string& method, const std::string& url) const {
  HttpRequest request;
  request.method = method;
  request.url = url;
  request.timeout = options_.timeout;
  request.headers = {{"User-Agent", options_.user_agent}};
  return request;
}

Expected<HttpResponse> AcmeClient::exchange(const char* endpoint, const HttpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  auto response = transport_.send(request);
  metrics::recordAcmeRequest(
      endpoint, request.method, response ? response->status : 0,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return response;
}

Expected<Directory> AcmeClient::directory() {
  {
    MutexLock lock(state_mutex_);
    if (directory_) return *directory_;
  }
  // Fetched without the lock (two workers may both fetch it once; the answers are the same).
  auto response = exchange("directory", unsignedRequest("GET", directory_url_));
  if (!response) return response.error();
  if (response->status != 200) return toStatus(problemFrom(*response));
  auto parsed = parseDirectory(response->body);
  if (!parsed) return parsed.error();
  MutexLock lock(state_mutex_);
  directory_ = *parsed;
  return *directory_;
}

void AcmeClient::keepNonce(const HttpResponse& response) {
  std::string nonce = response.header("Replay-Nonce");
  if (nonce.empty()) return;
  MutexLock lock(nonce_mutex_);
  nonces_.push_back(std::move(nonce));
  while (nonces_.size() > 16) nonces_.pop_front();  // stale ones are useless anyway
}

Expected<std::string> AcmeClient::takeNonce() {
  {
    MutexLock lock(nonce_mutex_);
    if (!nonces_.empty()) {
      std::string nonce = std::move(nonces_.front());
      nonces_.pop_front();
      return nonce;
    }
  }
  auto dir = directory();
  if (!dir) return dir.error();
  auto response = exchange("newNonce", unsignedRequest("HEAD", dir->new_nonce));
  if (!response) return response.error();
  std::string nonce = response->header("Replay-Nonce");
  if (nonce.empty())
    return Status(ErrorCode::Unavailable, "newNonce answered " + std::to_string(response->status) +
                                              " without a Replay-Nonce");
  return nonce;
}

Expected<AcmeClient::Reply> AcmeClient::post(const char* endpoint, const std::string& url,
                                             const std::optional<nlohmann::json>& payload,
                                             bool jwk) {
  const std::string account_url = jwk ? std::string() : accountUrl();
  if (!jwk && account_url.empty())
    return Status(ErrorCode::InvalidArgument, "no ACME account yet (call account() first)");
  const std::string body = payload ? payload->dump() : std::string();
  for (int attempt = 0;; ++attempt) {
    auto nonce = takeNonce();
    if (!nonce) return nonce.error();
    auto jws = signJws(key_, {*nonce, url, account_url}, body);
    if (!jws) return jws.error();
    HttpRequest request = unsignedRequest("POST", url);
    request.body = jws->dump();
    request.headers.push_back({"Content-Type", "application/jose+json"});
    auto response = exchange(endpoint, request);
    if (!response) return response.error();
    keepNonce(*response);
    {
      MutexLock lock(state_mutex_);
      last_retry_after_ =
          parseRetryAfter(response->header("Retry-After"), std::chrono::system_clock::now());
    }
    if (response->status >= 400) {
      AcmeProblem problem = problemFrom(*response);
      // §6.5: a rejected nonce is retried with the fresh one the error carried.
      if (problem.is("badNonce") && attempt < options_.bad_nonce_retries) {
        ++bad_nonce_retries_;
        continue;
      }
      if (!jwk && problem.is("accountDoesNotExist")) account_lost_ = true;
      return toStatus(problem);
    }
    Reply reply{std::move(*response), nlohmann::json()};
    reply.body = nlohmann::json::parse(reply.response.body, nullptr, false);
    if (reply.body.is_discarded()) reply.body = nlohmann::json();
    return reply;
  }
}

Expected<Account> AcmeClient::account(const NewAccountRequest& request) {
  auto dir = directory();
  if (!dir) return dir.error();
  nlohmann::json payload = {{"termsOfServiceAgreed", request.terms_agreed}};
  if (!request.email.empty()) payload["contact"] = {"mailto:" + request.email};
  if (request.only_return_existing) payload["onlyReturnExisting"] = true;
  if (request.eab) {
    auto binding = externalAccountBinding(key_, request.eab->key_id, request.eab->hmac_key_b64url,
                                          dir->new_account);
    if (!binding) return binding.error();
    payload["externalAccountBinding"] = *binding;
  } else if (dir->external_account_required) {
    return Status(
        ErrorCode::InvalidArgument,
        "the ACME server requires External Account Binding (spec.acme.externalAccountBinding)");
  }
  auto reply = post("newAccount", dir->new_account, payload, /*jwk=*/true);
  if (!reply) return reply.error();
  Account account;
  account.url = locationOf(reply->response);
  if (account.url.empty())
    return Status(ErrorCode::DecodeError, "newAccount answered without a Location");
  account.status = reply->body.value("status", "");
  if (auto c = reply->body.find("contact"); c != reply->body.end() && c->is_array())
    for (const auto& item : *c)
      if (item.is_string()) account.contact.push_back(item.get<std::string>());
  setAccountUrl(account.url);
  return account;
}

Expected<Order> AcmeClient::newOrder(const std::vector<std::string>& dns_names,
                                     const std::string& profile, const std::string& replaces) {
  auto dir = directory();
  if (!dir) return dir.error();
  nlohmann::json identifiers = nlohmann::json::array();
  for (const auto& name : dns_names) identifiers.push_back({{"type", "dns"}, {"value", name}});
  nlohmann::json payload = {{"identifiers", identifiers}};
  if (!profile.empty()) {
    if (!dir->profiles.count(profile))
      return Status(ErrorCode::InvalidArgument,
                    "the ACME server offers no profile \"" + profile + "\"");
    payload["profile"] = profile;
  }
  if (!replaces.empty() && !dir->renewal_info.empty()) payload["replaces"] = replaces;
  auto reply = post("newOrder", dir->new_order, payload);
  if (!reply) return reply.error();
  std::string url = locationOf(reply->response);
  if (url.empty()) return Status(ErrorCode::DecodeError, "newOrder answered without a Location");
  return parseOrder(reply->body, url);
}

Expected<Order> AcmeClient::order(const std::string& url) {
  auto reply = post("order", url, std::nullopt);
  if (!reply) return reply.error();
  return parseOrder(reply->body, url);
}

Expected<Authorization> AcmeClient::authorization(const std::string& url) {
  auto reply = post("authorization", url, std::nullopt);
  if (!reply) return reply.error();
  return parseAuthorization(reply->body, url);
}

Expected<Challenge> AcmeClient::respond(const std::string& challenge_url) {
  auto reply = post("challenge", challenge_url, nlohmann::json::object());
  if (!reply) return reply.error();
  return parseChallenge(reply->body);
}

Expected<Order> AcmeClient::finalize(const Order& order, const std::string& csr_der) {
  auto reply = post("finalize", order.finalize, nlohmann::json{{"csr", base64UrlEncode(csr_der)}});
  if (!reply) return reply.error();
  return parseOrder(reply->body, order.url);
}

Expected<CertificateChain> AcmeClient::certificate(const std::string& url) {
  auto reply = post("certificate", url, std::nullopt);
  if (!reply) return reply.error();
  CertificateChain chain;
  chain.pem = reply->response.body;
  chain.alternates = linksWithRel(reply->response, "alternate");
  if (chain.pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return Status(ErrorCode::DecodeError, "the certificate URL did not return a PEM chain");
  return chain;
}

Expected<RenewalWindow> AcmeClient::renewalInfo(const std::string& leaf_pem) {
  auto dir = directory();
  if (!dir) return dir.error();
  if (dir->renewal_info.empty())
    return Status(ErrorCode::NotFound, "the ACME server offers no renewalInfo (RFC 9773)");
  auto id = ariCertId(leaf_pem);
  if (!id) return id.error();
  // renewalInfo is a plain GET (RFC 9773 §4.1).
  auto response =
      exchange("renewalInfo",
               unsignedRequest(
                   "GET", dir->renewal_info + (dir->renewal_info.ends_with("/") ? "" : "/") + *id));
  if (!response) return response.error();
  if (response->status != 200) return toStatus(problemFrom(*response));
  auto window = parseRenewalInfo(response->body);
  if (!window) return window.error();
  window->retry_after =
      parseRetryAfter(response->header("Retry-After"), std::chrono::system_clock::now());
  return window;
}

Expected<std::string> ariCertId(const std::string& leaf_pem) {
  auto chain = parseCertificateChain(leaf_pem);
  if (!chain) return chain.error();
  X509* leaf = (*chain)[0].get();
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(leaf);
  if (!aki)
    return Status(ErrorCode::InvalidArgument, "the certificate has no Authority Key Identifier");
  const ASN1_INTEGER* serial = X509_get0_serialNumber(leaf);
  // The serial's DER content octets (with a leading 0x00 when the high bit is set).
  unsigned char* der = nullptr;
  int len = i2d_ASN1_INTEGER(serial, &der);
  if (len < 3) return Status(ErrorCode::InvalidArgument, "bad serial number");
  std::string serial_bytes(reinterpret_cast<char*>(der) + 2, static_cast<size_t>(len - 2));
  OPENSSL_free(der);
  return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(aki)),
                                          static_cast<size_t>(ASN1_STRING_length(aki)))) +
         "." + base64UrlEncode(serial_bytes);
}

Expected<RenewalWindow> parseRenewalInfo(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("suggestedWindow") || !j["suggestedWindow"].is_object())
    return Status(ErrorCode::DecodeError, "renewalInfo without a suggestedWindow");
  RenewalWindow window;
  auto start = parseRfc3339(j["suggestedWindow"].value("start", ""));
  auto end = parseRfc3339(j["suggestedWindow"].value("end", ""));
  if (!start || !end || *end < *start)
    return Status(ErrorCode::DecodeError, "renewalInfo has an invalid suggestedWindow");
  window.start = *start;
  window.end = *end;
  window.explanation_url = j.value("explanationURL", "");
  return window;
}

size_t choosePreferredChain(const std::vector<std::string>& chains_pem,
                            const std::string& preferred) {
  if (preferred.empty()) return 0;
  for (size_t i = 0; i < chains_pem.size(); ++i) {
    auto chain = parseCertificateChain(chains_pem[i]);
    if (!chain) continue;
    for (const auto& cert : *chain)
      if (commonName(X509_get_issuer_name(cert.get())) == preferred ||
          commonName(X509_get_subject_name(cert.get())) == preferred)
        return i;
  }
  return 0;
}

}  // namespace portico::acme
