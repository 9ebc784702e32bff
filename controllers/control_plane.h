// ControlPlane: the operator's controllers wired on one KubeClient (a real API server for
// `portico operator`, the in-memory one for `portico local`):
//   informers  Ingress, IngressClass, IngressClassConfig, Service, EndpointSlice (v1, or v1beta1
//              when that is what discovery finds); TLS Secrets only as referenced (SecretTracker)
//   every replica   RoutePublisher: any change → debounced compile → snapshot file
//   leader only     Ingress status + Events; IngressClassConfig status + Events
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "controllers/certificate/reconciler.h"
#include "controllers/common/event_recorder.h"
#include "controllers/ingress/status_reconciler.h"
#include "controllers/ingressclassconfig/status_reconciler.h"
#include "controllers/routes/publisher.h"
#include "controllers/routes/route_builder.h"
#include "controllers/routes/secret_tracker.h"
#include "controllers/selection/selection.h"
#include "crds/certificate.h"
#include "crds/ingress.h"
#include "crds/ingress_class_config.h"
#include "crds/service.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/manager.h"

namespace prometheus {
class Collectable;
}

namespace portico::controllers {

struct ControlPlaneOptions {
  selection::SelectionOptions selection;
  std::string snapshot_path;
  routes::PublisherOptions publisher;
  std::optional<kube::LeaderElectionConfig> leader_election;  // none: always the leader
  std::string identity = "portico";                           // in Events and the Lease
  std::string watch_namespace;                                // "" = all namespaces
  // How long the first snapshot waits for referenced Secrets before publishing without them.
  std::chrono::milliseconds secret_grace{3000};
  // ACME: how the Certificate controller reaches CAs, and how it backs off.
  certificate::CertificateOptions certificates;
  // The operator's own Service: its ready endpoints (port "http") are the replicas whose
  // proxies must answer an HTTP-01 challenge before the CA is asked to validate.
  std::optional<ObjectKey> replicas_service;
};

class ControlPlane {
public:
  // Discovers the EndpointSlice version and whether the IngressClassConfig CRD is installed;
  // creates the snapshot file.
  static Expected<std::unique_ptr<ControlPlane>> create(
      kube::KubeClient& client, ControlPlaneOptions options,
      const Clock& clock = SystemClock::instance());
  ~ControlPlane();

  // Runs until `stop` fires.
  Status run(CancelSource& stop);

  bool ready() const;  // caches synced and a snapshot published
  // Converged for now: no change waiting for the publisher, no key queued or being reconciled
  // by a controller, no referenced Secret waiting to be fetched. (Delayed requeues, such as a
  // renewal's, are future work and do not count.)
  bool idle() const;
  bool isLeader() const { return manager_->isLeader(); }
  // Status patches written (Ingresses and the class's config): only the leader writes.
  long statusWrites() const {
    return ingress_status_->statusWrites() + config_status_->statusWrites();
  }
  const routes::RoutePublisher& publisher() const { return *publisher_; }
  const std::string& endpointSliceVersion() const { return endpoint_slice_version_; }

private:
  ControlPlane(kube::KubeClient& client, ControlPlaneOptions options, const Clock& clock);
  routes::BuiltRoutes build();  // gathers the caches for builder_
  void wire();

  kube::KubeClient& client_;
  ControlPlaneOptions options_;
  const Clock& clock_;
  std::string endpoint_slice_version_;
  bool configs_served_ = false;
  bool certificates_served_ = false;
  void enqueueCertificatesUsingSecret(const ObjectKey& secret);

  std::shared_ptr<runtime::Informer<crds::Ingress>> ingresses_;
  std::shared_ptr<runtime::Informer<crds::IngressClass>> classes_;
  std::shared_ptr<runtime::Informer<crds::IngressClassConfig>> configs_;
  std::shared_ptr<runtime::Informer<crds::Service>> services_;
  std::shared_ptr<runtime::Informer<crds::EndpointSlice>> slices_;
  std::shared_ptr<runtime::Informer<crds::Certificate>> certificates_;
  std::shared_ptr<routes::SecretTracker> secrets_;
  std::shared_ptr<routes::RoutePublisher> publisher_;
  std::unique_ptr<EventRecorder> events_;
  std::unique_ptr<ingress::IngressStatusReconciler> ingress_status_;
  std::unique_ptr<ingressclassconfig::ConfigStatusReconciler> config_status_;
  std::shared_ptr<runtime::Controller> ingress_status_controller_;
  std::shared_ptr<runtime::Controller> config_status_controller_;
  std::unique_ptr<certificate::CertificateReconciler> certificate_reconciler_;
  std::shared_ptr<runtime::Controller> certificate_controller_;
  std::shared_ptr<prometheus::Collectable> certificate_metrics_;  // scraped while this lives
  std::unique_ptr<runtime::Manager> manager_;

  std::unique_ptr<routes::RouteBuilder> builder_;  // used by the publisher thread
};

}  // namespace portico::controllers
