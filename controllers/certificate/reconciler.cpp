#include "controllers/certificate/reconciler.h"

#include <nlohmann/json.hpp>

#include "controllers/certificate/policies.h"
#include "controllers/certificate/readiness.h"
#include "controllers/certificate/replica_check.h"
#include "controllers/certificate/secrets.h"
#include "crds/secret.h"
#include "operator/base/log.h"
#include "operator/base/pem.h"
#include "operator/base/thread_annotations.h"
#include "operator/base/time_format.h"

namespace portico::controllers::certificate {

using namespace std::chrono_literals;

kube::Resource certificates() {
  return {crds::kPorticoGroup, crds::kPorticoVersion, "certificates", true};
}

ObjectReference CertificateReconciler::referenceTo(const crds::Certificate& cert) {
  return {crds::kPorticoApiVersion, "Certificate", cert.metadata.namespace_, cert.metadata.name,
          cert.metadata.uid};
}

namespace {

std::string joinReplicas(const std::vector<std::string>& replicas) {
  std::string names;
  for (const auto& replica : replicas) names += (names.empty() ? "" : ", ") + replica;
  return names;
}

}  // namespace

CertificateReconciler::CertificateReconciler(
    kube::KubeClient& client, const runtime::Store<crds::IngressClassConfig>& configs,
    const routes::RoutePublisher& publisher, EventRecorder& events, CertificateOptions options,
    const Clock& clock)
    : client_(client),
      configs_(configs),
      publisher_(publisher),
      events_(events),
      options_(std::move(options)),
      clock_(clock),
      accounts_(client, options_.transport_factory, options_.account_namespace) {}

std::string CertificateReconciler::now() const {
  return formatRfc3339(clock_.now());
}

Status CertificateReconciler::writeStatus(const crds::Certificate& cert) {
  kube::PatchOptions options;
  options.subresource = "status";
  nlohmann::json patch = {{"status", cert.status}};
  auto written = client_.patch(certificates(), cert.metadata.key(), kube::PatchType::Merge,
                               patch.dump(), options);
  return written ? Status::ok() : written.error();
}

Status CertificateReconciler::writeSecret(const crds::Certificate& cert,
                                          const std::string& chain_pem,
                                          const std::string& key_pem) {
  crds::Secret secret;
  secret.metadata.name = cert.spec.secret_name;
  secret.metadata.namespace_ = cert.metadata.namespace_;
  secret.metadata.labels = cert.spec.secret_labels;
  secret.metadata.annotations = cert.spec.secret_annotations;
  secret.metadata.annotations[kCertificateNameAnnotation] = cert.metadata.name;
  const std::string renew = cert.metadata.annotation(kRenewAnnotation);
  if (!renew.empty()) secret.metadata.annotations[kRenewAnnotation] = renew;
  secret.type = crds::kTlsSecretType;
  secret.data["tls.crt"] = chain_pem;
  secret.data["tls.key"] = key_pem;
  if (auto root = chainRootPem(chain_pem)) secret.data["ca.crt"] = *root;
  return putSecret(client_, secret);
}

std::optional<RenewalInfoCache::Entry> CertificateReconciler::renewalInfo(
    const ObjectKey& key, const crds::IngressClassConfig& config, const crds::Secret* secret) {
  const std::string* crt = secret ? secret->find("tls.crt") : nullptr;
  if (!crt) return std::nullopt;
  auto cert_id = acme::ariCertId(*crt);
  if (!cert_id) return std::nullopt;  // e.g. no Authority Key Identifier: not from an ACME CA
  if (auto fresh = renewal_info_.fresh(key, *cert_id, clock_.now())) return fresh;
  auto acme = accounts_.clientFor(config);
  if (!acme) return renewal_info_.known(key, *cert_id);
  return renewal_info_.refresh(key, *cert_id, *crt, **acme, clock_.now());
}

std::string CertificateReconciler::replacedCertId(const ObjectKey& key,
                                                  const crds::Secret* secret) const {
  const std::string* crt = secret ? secret->find("tls.crt") : nullptr;
  if (!crt) return "";
  auto cert_id = acme::ariCertId(*crt);
  if (!cert_id) return "";
  auto entry = renewal_info_.known(key, *cert_id);
  return entry && entry->offered ? *cert_id : "";
}

Expected<runtime::Result> CertificateReconciler::fail(crds::Certificate& cert,
                                                      const std::string& reason,
                                                      const std::string& message) {
  cert.status.order.reset();
  cert.status.failed_issuance_attempts += 1;
  cert.status.last_failure_time = now();
  crds::setCondition(
      cert.status.conditions,
      {crds::kConditionIssuing, "False", reason, message, "", cert.metadata.generation}, now());
  if (const auto* ready = crds::findCondition(cert.status.conditions, crds::kConditionReady);
      !ready || ready->status != "True")
    crds::setCondition(
        cert.status.conditions,
        {crds::kConditionReady, "False", reason, message, "", cert.metadata.generation}, now());
  auto delay = failureBackoff(cert.status.failed_issuance_attempts, options_.backoff_base,
                              options_.backoff_cap);
  events_.record(referenceTo(cert), "Warning", reason,
                 message + "; retrying in " + crds::formatDuration(delay));
  if (Status st = writeStatus(cert); !st) return st;
  return runtime::requeueAfter(delay);
}

crds::Secret CertificateReconciler::ownershipOf(const crds::Certificate& cert) {
  crds::Secret mine;
  mine.metadata.annotations[kCertificateNameAnnotation] = cert.metadata.name;
  return mine;
}

// spec.secretName names a Secret Portico does not own: nothing is issued into it, and the user
// is told why (once per change of the condition), never with a retry storm.
Expected<runtime::Result> CertificateReconciler::secretOwnedByOther(crds::Certificate& cert) {
  const std::string message = "Secret " + cert.spec.secret_name +
                              " exists and is not Portico's (it has no " +
                              kCertificateNameAnnotation + ": " + cert.metadata.name +
                              " annotation): it is never overwritten. Delete it, choose another "
                              "secretName, or add the annotation to hand it over";
  const crds::CertificateStatus before = cert.status;
  cert.status.order.reset();
  crds::setCondition(
      cert.status.conditions,
      {crds::kConditionReady, "False", kSecretOwnedByOther, message, "", cert.metadata.generation},
      now());
  crds::setCondition(cert.status.conditions,
                     {crds::kConditionIssuing, "False", kSecretOwnedByOther, message, "",
                      cert.metadata.generation},
                     now());
  if (!crds::sameConditions(before.conditions, cert.status.conditions) ||
      before.order.has_value() != cert.status.order.has_value()) {
    events_.record(referenceTo(cert), "Warning", kSecretOwnedByOther, message);
    if (Status st = writeStatus(cert); !st) return st;
  }
  // A change of the Secret enqueues it sooner.
  return runtime::requeueAfter(std::chrono::minutes(5));
}

Expected<runtime::Result> CertificateReconciler::reconcile(const runtime::Request& request) {
  // The live object, not the cache: the order in status must never be acted on twice.
  auto live = client_.get(certificates(), request.key);
  if (!live) {
    if (live.error().code() == ErrorCode::NotFound) return runtime::Result{};
    return live.error();
  }
  crds::Certificate cert;
  try {
    cert = live->get<crds::Certificate>();
  } catch (const std::exception& e) {
    return runtime::terminalError(Status(ErrorCode::DecodeError, e.what()));
  }
  const crds::CertificateStatus before = cert.status;
  cert.status.observed_generation = cert.metadata.generation;

  if (auto errors = crds::validate(cert.spec); !errors.empty()) {
    std::string message;
    for (const auto& e : errors) message += (message.empty() ? "" : "; ") + e;
    crds::setCondition(
        cert.status.conditions,
        {crds::kConditionReady, "False", "InvalidSpec", message, "", cert.metadata.generation},
        now());
    if (Status st = writeStatus(cert); !st) return st;
    return runtime::terminalError(Status(ErrorCode::InvalidArgument, message));
  }

  auto secret = getSecret(client_, {cert.metadata.namespace_, cert.spec.secret_name});
  if (!secret) return secret.error();
  const crds::Secret* current = secret->get();
  if (current && !secretWritableBy(*current, ownershipOf(cert))) return secretOwnedByOther(cert);

  const std::string config_name = !cert.spec.issuer.empty()
                                      ? cert.spec.issuer
                                      : (options_.served_config ? options_.served_config() : "");
  auto config = configs_.get({"", config_name});
  if (!config || !config->spec.acme) {
    updateReadiness(cert, current, clock_.now(), std::nullopt);
    std::string message = config_name.empty()
                              ? "no IngressClassConfig issues certificates (set spec.issuerRef)"
                              : "IngressClassConfig " + config_name + " has no spec.acme";
    crds::setCondition(
        cert.status.conditions,
        {crds::kConditionIssuing, "False", "NoIssuer", message, "", cert.metadata.generation},
        now());
    if (!crds::sameConditions(before.conditions, cert.status.conditions))
      if (Status st = writeStatus(cert); !st) return st;
    return runtime::Result{};  // a config change enqueues every Certificate again
  }

  auto trigger = issuanceTrigger(cert, current, clock_.now());
  std::optional<RenewalInfoCache::Entry> ari;
  if (!cert.status.order && !trigger) {
    ari = renewalInfo(request.key, *config, current);
    if (ari && ari->renew_at) trigger = issuanceTrigger(cert, current, clock_.now(), ari->renew_at);
  }
  if (!cert.status.order) {
    updateReadiness(cert, current, clock_.now(), ari ? ari->renew_at : std::nullopt);
    if (!trigger) {
      crds::setCondition(cert.status.conditions,
                         {crds::kConditionIssuing, "False", "UpToDate", "no issuance needed", "",
                          cert.metadata.generation},
                         now());
      if (!crds::sameConditions(before.conditions, cert.status.conditions) ||
          before.renewal_time != cert.status.renewal_time ||
          before.observed_generation != cert.status.observed_generation)
        if (Status st = writeStatus(cert); !st) return st;
      auto renew_at = parseRfc3339(cert.status.renewal_time);
      auto wait =
          renew_at ? std::chrono::duration_cast<std::chrono::milliseconds>(*renew_at - clock_.now())
                   : std::chrono::milliseconds(3600000);
      if (ari)  // ask the CA again when its answer is due
        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  ari->next_check - clock_.now()));
      return runtime::requeueAfter(std::clamp<std::chrono::milliseconds>(wait, 1s, 24h));
    }
    if (cert.status.failed_issuance_attempts > 0) {
      auto last = parseRfc3339(cert.status.last_failure_time);
      auto retry_at =
          last.value_or(clock_.now()) + failureBackoff(cert.status.failed_issuance_attempts,
                                                       options_.backoff_base, options_.backoff_cap);
      if (clock_.now() < retry_at)
        return runtime::requeueAfter(
            std::chrono::duration_cast<std::chrono::milliseconds>(retry_at - clock_.now()));
    }
  }
  auto acme = accounts_.clientFor(*config);
  if (!acme) return fail(cert, "AccountFailed", "ACME account: " + acme.error().message());

  if (!cert.status.order) {
    // An order created by a reconcile whose status write failed is resumed, not duplicated.
    {
      MutexLock lock(tokens_mutex_);
      auto unsaved = unsaved_orders_.find(request.key);
      if (unsaved != unsaved_orders_.end() && unsaved->second.dns_names == cert.spec.dns_names) {
        cert.status.order = unsaved->second;
        unsaved_orders_.erase(unsaved);
      }
    }
  }
  if (!cert.status.order) return placeOrder(cert, **acme, *config, trigger, current);
  return advance(cert, **acme, *config, current);
}

// The tokens are in this replica's published snapshot; then either every replica's proxy
// answers them (replicas known), or they have been published long enough for the proxies to
// adopt them (this one polls every 10 ms; other replicas follow the same watch).
bool CertificateReconciler::tokensLive(const crds::Certificate& cert,
                                       std::vector<std::string>& silent) {
  const crds::OrderProgress& o = *cert.status.order;
  if (o.responded || o.challenges.empty()) return false;
  auto published = publisher_.current();
  const auto steady_now = clock_.steadyNow();
  Clock::MonoTime newest_seen{};
  {
    MutexLock lock(tokens_mutex_);
    for (const auto& c : o.challenges) {
      const std::string* served =
          published ? published->built.compiled.table.acmeKeyAuthorization(c.token) : nullptr;
      if (!served || *served != c.key_authorization) return false;
      auto it = token_seen_.emplace(c.token, steady_now).first;
      newest_seen = std::max(newest_seen, it->second);
    }
  }
  const auto waited = steady_now - newest_seen;
  const std::vector<std::string> replicas =
      options_.replicas ? options_.replicas() : std::vector<std::string>{};
  const bool live = replicas.empty() ? waited >= options_.token_propagation
                                     : replicasServe(cert, replicas, waited, silent);
  if (live) {
    MutexLock lock(tokens_mutex_);
    for (const auto& c : o.challenges) token_seen_.erase(c.token);
  }
  return live;
}

bool CertificateReconciler::replicasServe(const crds::Certificate& cert,
                                          const std::vector<std::string>& replicas,
                                          std::chrono::steady_clock::duration waited,
                                          std::vector<std::string>& silent) {
  auto transport = options_.transport_factory(TlsSettings{});
  silent = replicasNotServing(*transport, replicas, cert.status.order->challenges,
                              options_.replica_timeout);
  if (silent.empty()) return true;
  if (waited >= options_.replica_wait) {
    const std::string names = joinReplicas(silent);
    const std::string message =
        std::to_string(silent.size()) + " of " + std::to_string(replicas.size()) +
        " replica(s) still do not answer the HTTP-01 challenge after " +
        crds::formatDuration(std::chrono::duration_cast<std::chrono::seconds>(waited)) + " (" +
        names + "); asking the CA anyway";
    log::warn("replicas do not serve the challenge",
              {{"certificate", cert.metadata.key().toString()}, {"replicas", names}});
    events_.record(referenceTo(cert), "Warning", "ReplicasNotServing", message);
    silent.clear();
    return true;
  }
  return false;
}

Status CertificateReconciler::reportWaiting(crds::Certificate& cert,
                                            const std::vector<std::string>& silent) {
  if (silent.empty()) return Status::ok();
  const auto before = cert.status.conditions;
  crds::setCondition(cert.status.conditions,
                     {crds::kConditionIssuing, "True", "WaitingForReplicas",
                      "the CA is asked to validate once every replica's proxy answers the "
                      "HTTP-01 challenges; not yet: " +
                          joinReplicas(silent),
                      "", cert.metadata.generation},
                     now());
  return crds::sameConditions(before, cert.status.conditions) ? Status::ok() : writeStatus(cert);
}

void CertificateReconciler::stepEvent(const crds::Certificate& cert, const std::string& reason,
                                      const std::string& message) {
  events_.record(referenceTo(cert), "Normal", reason, message);
}

// No order yet and a trigger fired: ask the CA for one (naming the certificate it replaces,
// RFC 9773 §5), and remember it until its status write succeeds.
Expected<runtime::Result> CertificateReconciler::placeOrder(crds::Certificate& cert,
                                                            acme::AcmeClient& acme,
                                                            const crds::IngressClassConfig& config,
                                                            const std::optional<Trigger>& trigger,
                                                            const crds::Secret* secret) {
  const std::string replaces = replacedCertId(cert.metadata.key(), secret);
  auto order = acme.newOrder(cert.spec.dns_names, config.spec.acme->profile, replaces);
  if (!order && !replaces.empty()) {
    // RFC 9773 §5: a CA may refuse the replacement (e.g. already replaced); a plain order
    // still renews.
    log::warn(
        "newOrder with replaces refused; ordering without it",
        {{"certificate", cert.metadata.key().toString()}, {"error", order.error().message()}});
    order = acme.newOrder(cert.spec.dns_names, config.spec.acme->profile);
  }
  if (!order) {
    // The CA forgot the account (its state lost, the account deactivated): not this
    // Certificate's failure. The next attempt, soon, registers the key again (clientFor).
    if (acme.accountLost()) return order.error();
    const ErrorCode code = order.error().code();
    const bool unreachable = code == ErrorCode::Unavailable || code == ErrorCode::Timeout;
    return fail(cert, unreachable ? "CAUnavailable" : "OrderFailed",
                "newOrder: " + order.error().message());
  }
  log::info("ACME order created", {{"certificate", cert.metadata.key().toString()},
                                   {"order", order->url},
                                   {"replaces", replaces}});
  crds::OrderProgress progress;
  progress.url = order->url;
  progress.status = order->status;
  progress.dns_names = cert.spec.dns_names;
  progress.authorizations = order->authorizations;
  progress.finalize = order->finalize;
  cert.status.order = progress;
  {
    MutexLock lock(tokens_mutex_);
    unsaved_orders_[cert.metadata.key()] = progress;  // until the status write below succeeds
  }
  crds::setCondition(cert.status.conditions,
                     {crds::kConditionIssuing, "True", trigger ? trigger->reason : "Issuing",
                      (trigger ? trigger->message + ": " : std::string()) + "order " + order->url,
                      "", cert.metadata.generation},
                     now());
  if (Status st = writeStatus(cert); !st) return st;
  stepEvent(cert, trigger ? trigger->reason : "Issuing",
            (trigger ? trigger->message + "; " : std::string()) + "ordered from the CA" +
                (replaces.empty() ? "" : " (replaces " + replaces + ")"));
  MutexLock lock(tokens_mutex_);
  unsaved_orders_.erase(cert.metadata.key());
  return runtime::requeueAfter(10ms);
}

}  // namespace portico::controllers::certificate
