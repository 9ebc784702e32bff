// The steps of an ACME order under way, one per reconcile (order_machine.h says which): each
// does its one exchange with the CA, writes what it learned into status, records an Event and
// says when to look again.
#include <nlohmann/json.hpp>

#include "acme/csr.h"
#include "acme/http01.h"
#include "controllers/certificate/certificate_key.h"
#include "controllers/certificate/order_machine.h"
#include "controllers/certificate/readiness.h"
#include "controllers/certificate/reconciler.h"
#include "controllers/certificate/secrets.h"
#include "operator/base/log.h"
#include "operator/base/pem.h"

namespace portico::controllers::certificate {

using namespace std::chrono_literals;

namespace {

// How soon to poll the order again: the CA's Retry-After, within reason.
std::chrono::milliseconds pollDelay(const acme::AcmeClient& acme) {
  auto hint = acme.lastRetryAfter().value_or(std::chrono::seconds(0));
  return std::clamp<std::chrono::milliseconds>(hint, 250ms, 30s);
}

}  // namespace

Expected<runtime::Result> CertificateReconciler::advance(crds::Certificate& cert,
                                                         acme::AcmeClient& acme,
                                                         const crds::IngressClassConfig& config,
                                                         const crds::Secret* secret) {
  if (cert.status.order->dns_names != cert.spec.dns_names)
    return fail(cert, "SpecChanged", "spec.dnsNames changed during the order; starting again");
  std::vector<std::string> silent_replicas;
  switch (nextOrderStep(cert.status.order, tokensLive(cert, silent_replicas))) {
    case OrderStep::NewOrder: break;  // reconcile() places orders; here there is one
    case OrderStep::FetchChallenges: return fetchChallenges(cert, acme);
    case OrderStep::AwaitTokens: return awaitTokens(cert, silent_replicas);
    case OrderStep::RespondChallenges: return respondChallenges(cert, acme);
    case OrderStep::PollOrder: return pollOrder(cert, acme, config, secret);
  }
  return Status(ErrorCode::Internal, "advance() called without an order");
}

// The HTTP-01 challenges of every authorization still pending, into status (and so into every
// replica's snapshot).
Expected<runtime::Result> CertificateReconciler::fetchChallenges(crds::Certificate& cert,
                                                                 acme::AcmeClient& acme) {
  crds::OrderProgress& o = *cert.status.order;
  auto thumbprint = acme.thumbprint();
  if (!thumbprint) return thumbprint.error();
  for (const auto& url : o.authorizations) {
    auto authz = acme.authorization(url);
    if (!authz) return fail(cert, "AuthorizationFailed", authz.error().message());
    if (authz->status == "valid") continue;  // reused by the CA
    const acme::Challenge* http01 = authz->challenge("http-01");
    if (!http01)
      return fail(cert, "NoHTTP01", "the CA offers no http-01 challenge for " + authz->identifier);
    if (!acme::isValidToken(http01->token))
      return fail(cert, "BadToken", "the CA sent a malformed challenge token");
    o.challenges.push_back({authz->identifier, http01->token,
                            acme::keyAuthorization(http01->token, *thumbprint), http01->url});
  }
  if (o.challenges.empty()) o.responded = true;
  if (Status st = writeStatus(cert); !st) return st;
  stepEvent(cert, "Presenting",
            o.challenges.empty()
                ? std::string("the CA already holds valid authorizations for every name")
                : std::to_string(o.challenges.size()) +
                      " HTTP-01 challenge(s) handed to the proxies (no solver pods)");
  return runtime::requeueAfter(10ms);
}

// The tokens must be live in the proxies before the CA may validate (see tokensLive).
Expected<runtime::Result> CertificateReconciler::awaitTokens(
    crds::Certificate& cert, const std::vector<std::string>& silent_replicas) {
  if (Status st = reportWaiting(cert, silent_replicas); !st) return st;
  return runtime::requeueAfter(options_.replicas ? 100ms : 20ms);
}

Expected<runtime::Result> CertificateReconciler::respondChallenges(crds::Certificate& cert,
                                                                   acme::AcmeClient& acme) {
  crds::OrderProgress& o = *cert.status.order;
  for (const auto& c : o.challenges) {
    auto responded = acme.respond(c.url);
    if (!responded) return fail(cert, "ChallengeFailed", responded.error().message());
  }
  o.responded = true;
  if (const auto* issuing = crds::findCondition(cert.status.conditions, crds::kConditionIssuing);
      issuing && issuing->reason == "WaitingForReplicas")
    crds::setCondition(cert.status.conditions,
                       {crds::kConditionIssuing, "True", "ValidationRequested",
                        "every replica answers the HTTP-01 challenges; the CA was asked to "
                        "validate order " +
                            o.url,
                        "", cert.metadata.generation},
                       now());
  if (Status st = writeStatus(cert); !st) return st;
  stepEvent(cert, "ValidationRequested",
            "the proxies answer the challenges; the CA was asked to validate");
  return runtime::requeueAfter(250ms);
}

// The CA's view of the order decides: wait, finalize, download, or give up.
Expected<runtime::Result> CertificateReconciler::pollOrder(crds::Certificate& cert,
                                                           acme::AcmeClient& acme,
                                                           const crds::IngressClassConfig& config,
                                                           const crds::Secret* secret) {
  crds::OrderProgress& o = *cert.status.order;
  auto order = acme.order(o.url);
  if (!order) {
    if (order.error().code() == ErrorCode::NotFound ||
        order.error().code() == ErrorCode::InvalidArgument)
      return fail(cert, "OrderLost", order.error().message());
    return order.error();  // transient: retried with backoff by the controller
  }
  const std::string previous = o.status;
  o.status = order->status;
  switch (actionForOrderStatus(order->status)) {
    case OrderAction::Fail: return validationFailed(cert, acme, *order);
    case OrderAction::Wait:
      if (previous != o.status)
        if (Status st = writeStatus(cert); !st) return st;
      return runtime::requeueAfter(pollDelay(acme));
    case OrderAction::Finalize: return finalizeOrder(cert, acme, *order, secret);
    case OrderAction::Download: return downloadCertificate(cert, acme, *order, config);
  }
  return Status(ErrorCode::Internal, "unknown order action");
}

// The most specific reason the CA gives: a challenge's error, else the order's.
Expected<runtime::Result> CertificateReconciler::validationFailed(crds::Certificate& cert,
                                                                  acme::AcmeClient& acme,
                                                                  const acme::Order& order) {
  std::string why =
      order.error ? order.error->describe()
                  : "the order is " + (order.status.empty() ? std::string("?") : order.status);
  for (const auto& url : cert.status.order->authorizations) {
    auto authz = acme.authorization(url);
    if (!authz) continue;
    for (const auto& c : authz->challenges)
      if (c.error) why = authz->identifier + ": " + c.error->describe();
  }
  return fail(cert, "ValidationFailed", why);
}

// The key of the CSR is kept in a Secret first: a restart between finalize and download must
// not lose it.
Expected<runtime::Result> CertificateReconciler::finalizeOrder(crds::Certificate& cert,
                                                               acme::AcmeClient& acme,
                                                               const acme::Order& order,
                                                               const crds::Secret* secret) {
  crds::OrderProgress& o = *cert.status.order;
  auto key_pem = nextCertificateKey(cert, secret);
  if (!key_pem) return fail(cert, "KeyFailed", key_pem.error().message());
  const crds::Secret next = nextKeySecret(cert, *key_pem);
  if (Status st = putSecret(client_, next); !st) return st;
  auto key = parsePrivateKey(*key_pem);
  if (!key) return fail(cert, "KeyFailed", key.error().message());
  auto csr = acme::makeCsr(key->get(), cert.spec.dns_names);
  if (!csr) return fail(cert, "CSRFailed", csr.error().message());
  auto finalized = acme.finalize(order, *csr);
  if (!finalized) return fail(cert, "FinalizeFailed", finalized.error().message());
  o.status = finalized->status;
  o.next_key_secret = next.metadata.name;
  if (Status st = writeStatus(cert); !st) return st;
  stepEvent(cert, "Finalized",
            "validated; the CSR for " + std::to_string(cert.spec.dns_names.size()) +
                " name(s) was sent (its key waits in Secret " + next.metadata.name + ")");
  return runtime::requeueAfter(pollDelay(acme));
}

// Issued: download (the preferred chain when asked), check it against the kept key, write the
// TLS Secret, and close the order.
Expected<runtime::Result> CertificateReconciler::downloadCertificate(
    crds::Certificate& cert, acme::AcmeClient& acme, const acme::Order& order,
    const crds::IngressClassConfig& config) {
  crds::OrderProgress& o = *cert.status.order;
  auto chain = acme.certificate(order.certificate);
  if (!chain) return fail(cert, "DownloadFailed", chain.error().message());
  std::string chain_pem = chain->pem;
  if (!config.spec.acme->preferred_chain.empty() && !chain->alternates.empty()) {
    std::vector<std::string> chains = {chain->pem};
    for (const auto& url : chain->alternates)
      if (auto alternate = acme.certificate(url)) chains.push_back(alternate->pem);
    chain_pem = chains[acme::choosePreferredChain(chains, config.spec.acme->preferred_chain)];
  }
  auto next = getSecret(client_, {cert.metadata.namespace_, o.next_key_secret});
  if (!next) return next.error();
  if (!*next || !(*next)->find("tls.key"))
    return fail(cert, "KeyLost", "the private key Secret " + o.next_key_secret + " is gone");
  const std::string key_pem = *(*next)->find("tls.key");
  if (auto pair = checkTlsPair(chain_pem, key_pem, clock_.now()); !pair)
    return fail(cert, "BadCertificate", "the CA's certificate: " + pair.error().message());
  if (Status st = writeSecret(cert, chain_pem, key_pem); !st) return st;
  // The CSR's key now lives in the TLS Secret. A copy left behind is owned by the Certificate
  // (deleted with it) and replaced by the next order's key: a failed delete is worth a log line.
  if (Status st = deleteSecret(client_, {cert.metadata.namespace_, o.next_key_secret}); !st)
    log::warn("the next-key Secret was not deleted",
              {{"secret", o.next_key_secret}, {"error", st.toString()}});

  cert.status.order.reset();
  cert.status.revision += 1;
  cert.status.failed_issuance_attempts = 0;
  cert.status.last_failure_time.clear();
  auto written = getSecret(client_, {cert.metadata.namespace_, cert.spec.secret_name});
  renewal_info_.forget(cert.metadata.key());
  updateReadiness(cert, written && *written ? written->get() : nullptr, clock_.now(), std::nullopt);
  crds::setCondition(cert.status.conditions,
                     {crds::kConditionIssuing, "False", "Issued",
                      "certificate revision " + std::to_string(cert.status.revision) + " issued",
                      "", cert.metadata.generation},
                     now());
  stepEvent(cert, "Issued",
            "certificate issued into Secret " + cert.spec.secret_name + ", valid until " +
                cert.status.not_after);
  if (Status st = writeStatus(cert); !st) return st;
  return runtime::requeueAfter(1s);
}

}  // namespace portico::controllers::certificate
