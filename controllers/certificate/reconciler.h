// The Certificate controller (leader only). One ACME step per reconcile, with the order's progress
// in status (so every replica's proxy answers the challenges and a restart resumes the order):
//   no order, trigger fires  → (account) → newOrder                          Issuing=True
//   order pending            → fetch authorizations: HTTP-01 tokens into status → the snapshot
//   tokens live in our proxy → tell the CA to validate (with replicas known: once every
//                              replica's proxy answers them, replica_check.h)
//   order ready              → key (kept in a Secret) + CSR → finalize
//   order valid              → download, write the kubernetes.io/tls Secret    Ready=True
//                              (tls.crt leaf + chain, tls.key, ca.crt when the chain has the root)
//   anything fails           → order dropped, failedIssuanceAttempts+1, retry after a doubling
//   delay
// When the CA offers ARI (RFC 9773), its suggested window can bring the renewal forward, and the
// renewal's order names the certificate it replaces.
// Split by concern: policies.h (trigger, renewal time), accounts.h + certificate_key.h (keys),
// order_machine.h (the order's next step), readiness.h (Ready), renewal_info.h (ARI); this
// class drives the issuing: reconciler.cpp up to the order, reconciler_steps.cpp one function
// per step of an order under way.
// The Ready condition follows the Secret: a valid certificate that covers spec.dnsNames.
#pragma once

#include <functional>
#include <map>
#include <memory>

#include "acme/client.h"
#include "controllers/certificate/accounts.h"
#include "controllers/certificate/policies.h"
#include "controllers/certificate/renewal_info.h"
#include "controllers/common/event_recorder.h"
#include "controllers/routes/publisher.h"
#include "crds/certificate.h"
#include "crds/ingress_class_config.h"
#include "operator/base/clock.h"
#include "operator/base/thread_annotations.h"
#include "operator/kube/client.h"
#include "operator/runtime/reconciler.h"
#include "operator/runtime/store.h"

namespace portico::controllers::certificate {

kube::Resource certificates();

struct CertificateOptions {
  TransportFactory transport_factory;
  std::chrono::seconds backoff_base{60};
  std::chrono::seconds backoff_cap{8 * 3600};
  std::string account_namespace = "default";   // where default account-key Secrets live
  std::function<std::string()> served_config;  // the served class's IngressClassConfig name
  // How long a token must have been in the published snapshot before the CA is asked to look,
  // when the replicas are not known.
  std::chrono::milliseconds token_propagation{250};
  // High availability: "host:port" of every replica's plain-HTTP listener (the ready endpoints
  // of the operator's own Service). When set and not empty, the CA is asked to validate only
  // once each of them answers every challenge (replica_check.h).
  std::function<std::vector<std::string>()> replicas;
  std::chrono::milliseconds replica_timeout{1000};  // per replica check request
  // A replica still silent after this is reported (Warning Event) and the CA asked anyway: the
  // load balancer may well send the CA to a replica that answers.
  std::chrono::milliseconds replica_wait{30000};
};

class CertificateReconciler final : public runtime::Reconciler {
public:
  CertificateReconciler(kube::KubeClient& client,
                        const runtime::Store<crds::IngressClassConfig>& configs,
                        const routes::RoutePublisher& publisher, EventRecorder& events,
                        CertificateOptions options, const Clock& clock = SystemClock::instance());

  Expected<runtime::Result> reconcile(const runtime::Request& request) override;

private:
  // No order yet and a trigger fired: newOrder (reconciler.cpp).
  Expected<runtime::Result> placeOrder(crds::Certificate& cert, acme::AcmeClient& acme,
                                       const crds::IngressClassConfig& config,
                                       const std::optional<Trigger>& trigger,
                                       const crds::Secret* secret);
  // An order under way: the one step order_machine.h names (reconciler_steps.cpp).
  Expected<runtime::Result> advance(crds::Certificate& cert, acme::AcmeClient& acme,
                                    const crds::IngressClassConfig& config,
                                    const crds::Secret* secret);
  Expected<runtime::Result> fetchChallenges(crds::Certificate& cert, acme::AcmeClient& acme);
  Expected<runtime::Result> awaitTokens(crds::Certificate& cert,
                                        const std::vector<std::string>& silent_replicas);
  Expected<runtime::Result> respondChallenges(crds::Certificate& cert, acme::AcmeClient& acme);
  Expected<runtime::Result> pollOrder(crds::Certificate& cert, acme::AcmeClient& acme,
                                      const crds::IngressClassConfig& config,
                                      const crds::Secret* secret);
  Expected<runtime::Result> validationFailed(crds::Certificate& cert, acme::AcmeClient& acme,
                                             const acme::Order& order);
  Expected<runtime::Result> finalizeOrder(crds::Certificate& cert, acme::AcmeClient& acme,
                                          const acme::Order& order, const crds::Secret* secret);
  Expected<runtime::Result> downloadCertificate(crds::Certificate& cert, acme::AcmeClient& acme,
                                                const acme::Order& order,
                                                const crds::IngressClassConfig& config);
  // The Certificate as the object of an Event.
  static ObjectReference referenceTo(const crds::Certificate& cert);
  // Whether the CA may be asked to validate; `silent` gets the replicas that do not answer yet.
  bool tokensLive(const crds::Certificate& cert, std::vector<std::string>& silent);
  // With replicas known: whether every one of them answers the challenges (or the wait for
  // the silent ones is over); `silent` gets those still waited for.
  bool replicasServe(const crds::Certificate& cert, const std::vector<std::string>& replicas,
                     std::chrono::steady_clock::duration waited, std::vector<std::string>& silent);
  // The Issuing condition says which replicas the order is waiting for (written on change).
  Status reportWaiting(crds::Certificate& cert, const std::vector<std::string>& silent);
  Expected<runtime::Result> fail(crds::Certificate& cert, const std::string& reason,
                                 const std::string& message);
  // What makes a Secret this Certificate's (see secretWritableBy).
  static crds::Secret ownershipOf(const crds::Certificate& cert);
  // Ready=False, Issuing=False with reason SecretOwnedByOther, an Event on change.
  Expected<runtime::Result> secretOwnedByOther(crds::Certificate& cert);
  Status writeStatus(const crds::Certificate& cert);
  // A Normal Event for each issuance step, so `kubectl describe` tells the story.
  void stepEvent(const crds::Certificate& cert, const std::string& reason,
                 const std::string& message);
  Status writeSecret(const crds::Certificate& cert, const std::string& chain_pem,
                     const std::string& key_pem);
  // The moment picked in the CA's ARI window for the certificate in the Secret, asking the CA
  // when the last answer is due (nullopt: no certificate, or the CA offers no ARI).
  std::optional<RenewalInfoCache::Entry> renewalInfo(const ObjectKey& key,
                                                     const crds::IngressClassConfig& config,
                                                     const crds::Secret* secret);
  // The certID the new order replaces (RFC 9773 §5), when the CA offers ARI.
  std::string replacedCertId(const ObjectKey& key, const crds::Secret* secret) const;
  std::string now() const;

  kube::KubeClient& client_;
  const runtime::Store<crds::IngressClassConfig>& configs_;
  const routes::RoutePublisher& publisher_;
  EventRecorder& events_;
  CertificateOptions options_;
  const Clock& clock_;
  Mutex tokens_mutex_;
  std::map<std::string, Clock::MonoTime> token_seen_
      GUARDED_BY(tokens_mutex_);  // token → first seen in our snapshot
  std::map<ObjectKey, crds::OrderProgress> unsaved_orders_
      GUARDED_BY(tokens_mutex_);  // created, status not yet written
  AcmeAccounts accounts_;
  RenewalInfoCache renewal_info_;
};

}  // namespace portico::controllers::certificate
