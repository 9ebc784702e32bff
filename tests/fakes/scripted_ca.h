// ScriptedCa: an ACME CA (RFC 8555) for unit tests, answering a FakeTransport's requests.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/base/base64.h"
#include "operator/base/clock.h"
#include "operator/base/http_transport.h"
#include "tests/fakes/fake_transport.h"
#include "tests/fakes/test_certs.h"

namespace portico::testing {

// Follows RFC 8555 closely enough for the controller: a directory, nonces, accounts
// by key, orders with one authorization (and one http-01 challenge) per name; an order is
// "pending" until its challenges were answered, then "ready", and "valid" after finalize,
// which issues a certificate for the CSR's key. Knobs script the failures.
class ScriptedCa {
public:
  static constexpr const char* kDirectory = "https://ca.test/dir";
  using json = nlohmann::json;

  explicit ScriptedCa(const Clock& clock)
      : clock_(clock),
        root_(makeCertificate({"Scripted Test Root"}, clock.now() - std::chrono::hours(24),
                              clock.now() + std::chrono::hours(24) * 3650, nullptr, true)) {}

  Expected<HttpResponse> answer(const HttpRequest& request) {
    const std::string endpoint = endpointOf(request.url);
    calls_.push_back(endpoint);
    if (on_call) on_call(endpoint);
    if (auto scripted = fail_next.find(endpoint); scripted != fail_next.end()) {
      HttpResponse response = scripted->second;
      fail_next.erase(scripted);
      return withNonce(std::move(response));
    }
    if (endpoint == "directory")
      return json_(200, {{"newNonce", "https://ca.test/nonce"},
                         {"newAccount", "https://ca.test/account"},
                         {"newOrder", "https://ca.test/order"}});
    if (endpoint == "newNonce") return withNonce(httpReply(200, "", {}));
    const json payload = payloadOf(request);
    if (endpoint == "newAccount") {
      ++accounts_;
      return json_(201, {{"status", "valid"}},
                   {{"Location", "https://ca.test/acct/" + std::to_string(accounts_)}});
    }
    if (endpoint == "newOrder") {
      Order order;
      for (const auto& id : payload.value("identifiers", json::array()))
        order.names.push_back(id.value("value", ""));
      const std::string id = std::to_string(orders_.size() + 1);
      orders_[id] = order;
      return json_(201, orderJson(id), {{"Location", "https://ca.test/orders/" + id}});
    }
    const std::string id = idOf(request.url);
    auto it = orders_.find(id);
    if (it == orders_.end() || (endpoint == "order" && forget_orders))
      return problem(404, "malformed", "no such order");
    Order& order = it->second;
    if (endpoint == "authz") {
      const size_t i = indexOf(request.url);
      return json_(200, {{"status", reuse_authorizations ? "valid" : "pending"},
                         {"identifier", {{"type", "dns"}, {"value", order.names.at(i)}}},
                         {"challenges", json::array({challengeJson(id, i, "pending")})}});
    }
    if (endpoint == "challenge") {
      order.answered += 1;
      return json_(200, challengeJson(id, indexOf(request.url), "processing"));
    }
    if (endpoint == "order") {
      const bool validated = order.answered >= order.names.size() || reuse_authorizations;
      if (validated && order.status == "pending") {
        if (pending_polls > 0)
          --pending_polls;
        else
          order.status = "ready";
      }
      return json_(200, orderJson(id));
    }
    if (endpoint == "finalize") {
      auto csr = base64UrlDecode(payload.value("csr", ""));
      order.certificate =
          issueForCsr(csr.value_or(""), order.names, clock_.now() - std::chrono::hours(1),
                      clock_.now() + std::chrono::hours(24) * 90, root_);
      if (order.certificate.empty()) return problem(400, "badCSR", "the CSR does not parse");
      order.status = "valid";
      return json_(200, orderJson(id));
    }
    if (endpoint == "certificate") {
      HttpResponse response = httpReply(200, order.certificate + root_.cert_pem,
                                        {{"Content-Type", "application/pem-certificate-chain"}});
      return withNonce(std::move(response));
    }
    return problem(404, "malformed", "unknown URL " + request.url);
  }

  int count(const std::string& endpoint) const {
    return static_cast<int>(std::count(calls_.begin(), calls_.end(), endpoint));
  }
  int accounts() const { return accounts_; }
  static HttpResponse problemReply(int status, const std::string& type, const std::string& detail,
                                   const std::string& retry_after = "") {
    HttpResponse response = httpReply(
        status,
        json{{"type", "urn:ietf:params:acme:error:" + type}, {"detail", detail}, {"status", status}}
            .dump(),
        {{"Content-Type", "application/problem+json"}});
    if (!retry_after.empty()) response.headers.push_back({"Retry-After", retry_after});
    return response;
  }

  // Knobs.
  std::map<std::string, HttpResponse> fail_next;  // endpoint → its next answer
  std::function<void(const std::string& endpoint)> on_call;
  int pending_polls = 0;              // "pending" this many more polls once answered
  bool forget_orders = false;         // order URLs answer 404, as after a CA lost its state
  bool reuse_authorizations = false;  // authorizations already valid (no challenge needed)

private:
  struct Order {
    std::vector<std::string> names;
    size_t answered = 0;
    std::string status = "pending";
    std::string certificate;
  };

  static std::string endpointOf(const std::string& url) {
    if (url == kDirectory) return "directory";
    if (url == "https://ca.test/nonce") return "newNonce";
    if (url == "https://ca.test/account") return "newAccount";
    if (url == "https://ca.test/order") return "newOrder";
    for (const char* kind : {"authz", "challenge", "finalize", "certificate"})
      if (url.rfind(std::string("https://ca.test/") + kind + "/", 0) == 0) return kind;
    if (url.rfind("https://ca.test/orders/", 0) == 0) return "order";
    return url;
  }
  // https://ca.test/<kind>/<order id>[/<index>]
  static std::string idOf(const std::string& url) {
    const std::string rest = url.substr(url.find('/', std::string("https://ca.test/").size()) + 1);
    return rest.substr(0, rest.find('/'));
  }
  static size_t indexOf(const std::string& url) {
    return static_cast<size_t>(std::stoul(url.substr(url.rfind('/') + 1)));
  }
  static json payloadOf(const HttpRequest& request) {
    const json jws = json::parse(request.body, nullptr, false);
    if (!jws.is_object()) return json::object();
    auto payload = base64UrlDecode(jws.value("payload", ""));
    if (!payload || payload->empty()) return json::object();
    return json::parse(*payload, nullptr, false);
  }
  static std::string tokenOf(const std::string& id, size_t i) {
    return "token-" + id + "-" + std::to_string(i) + "-abcdefghijklmnopqrstuvwxyz";
  }
  json challengeJson(const std::string& id, size_t i, const std::string& status) const {
    return {{"type", "http-01"},
            {"url", "https://ca.test/challenge/" + id + "/" + std::to_string(i)},
            {"token", tokenOf(id, i)},
            {"status", status}};
  }
  json orderJson(const std::string& id) const {
    const Order& order = orders_.at(id);
    json j = {{"status", order.status},
              {"identifiers", json::array()},
              {"authorizations", json::array()},
              {"finalize", "https://ca.test/finalize/" + id}};
    for (size_t i = 0; i < order.names.size(); ++i) {
      j["identifiers"].push_back({{"type", "dns"}, {"value", order.names[i]}});
      j["authorizations"].push_back("https://ca.test/authz/" + id + "/" + std::to_string(i));
    }
    if (order.status == "valid") j["certificate"] = "https://ca.test/certificate/" + id;
    return j;
  }
  HttpResponse withNonce(HttpResponse response) {
    response.headers.push_back({"Replay-Nonce", "nonce-" + std::to_string(++nonces_)});
    return response;
  }
  Expected<HttpResponse> json_(int status, const json& body, std::vector<HttpHeader> headers = {}) {
    HttpResponse response = jsonResponse(status, body.dump(), std::move(headers));
    return withNonce(std::move(response));
  }
  Expected<HttpResponse> problem(int status, const std::string& type, const std::string& detail) {
    return withNonce(problemReply(status, type, detail));
  }

  const Clock& clock_;
  TestCertificate root_;
  std::vector<std::string> calls_;
  std::map<std::string, Order> orders_;
  int accounts_ = 0;
  long nonces_ = 0;
};

}  // namespace portico::testing
