#include "controllers/control_plane.h"

#include "controllers/certificate/certificate_metrics.h"
#include "controllers/certificate/replica_check.h"
#include "operator/base/metrics.h"

#include "operator/base/log.h"

namespace portico::controllers {

namespace {

template <typename T>
std::vector<std::shared_ptr<const T>> listOf(
    const std::shared_ptr<runtime::Informer<T>>& informer) {
  return informer ? informer->store().list() : std::vector<std::shared_ptr<const T>>{};
}

// Our own status writes must not cost a recompile: only spec (generation) or metadata that
// routing reads (annotations, labels) changes matter.
template <typename T>
bool routingChanged(const std::shared_ptr<const T>& old_obj,
                    const std::shared_ptr<const T>& new_obj) {
  if (!old_obj || !new_obj) return true;
  const auto& a = old_obj->metadata;
  const auto& b = new_obj->metadata;
  return a.generation != b.generation || a.generation == 0 || a.annotations != b.annotations ||
         a.labels != b.labels;
}

}  // namespace

ControlPlane::ControlPlane(kube::KubeClient& client, ControlPlaneOptions options,
                           const Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {}

ControlPlane::~ControlPlane() = default;

Expected<std::unique_ptr<ControlPlane>> ControlPlane::create(kube::KubeClient& client,
                                                             ControlPlaneOptions options,
                                                             const Clock& clock) {
  std::unique_ptr<ControlPlane> plane(new ControlPlane(client, std::move(options), clock));
  auto slices = client.preferredVersion("discovery.k8s.io", {"v1", "v1beta1"});
  if (!slices)
    return Status(slices.error().code(),
                  "EndpointSlices (discovery.k8s.io v1 or v1beta1) are not served: " +
                      slices.error().message());
  plane->endpoint_slice_version_ = *slices;
  auto configs = client.preferredVersion(crds::kPorticoGroup, {crds::kPorticoVersion});
  plane->configs_served_ = configs.hasValue();
  if (!plane->configs_served_)
    log::warn("the IngressClassConfig CRD is not installed: classes use built-in defaults",
              {{"fix", "kubectl apply -f crds/"}});
  if (plane->configs_served_) {
    kube::ListOptions probe;
    probe.limit = 1;
    plane->certificates_served_ =
        client.list(certificate::certificates(), plane->options_.watch_namespace, probe).hasValue();
    if (!plane->certificates_served_)
      log::warn("the Certificate CRD is not installed: no ACME certificates",
                {{"fix", "kubectl apply -f crds/"}});
  }
  auto writer = proxy::SnapshotWriter::create(plane->options_.snapshot_path);
  if (!writer) return writer.error();
  plane->publisher_ = std::make_shared<routes::RoutePublisher>(
      [p = plane.get()] { return p->build(); }, std::move(*writer), plane->options_.publisher);
  plane->wire();
  return plane;
}

void ControlPlane::wire() {
  runtime::InformerOptions informer_options;
  informer_options.namespace_ = options_.watch_namespace;
  ingresses_ = std::make_shared<runtime::Informer<crds::Ingress>>(
      client_, kube::resources::ingresses(), informer_options);
  classes_ = std::make_shared<runtime::Informer<crds::IngressClass>>(
      client_, kube::resources::ingressClasses());
  if (configs_served_)
    configs_ = std::make_shared<runtime::Informer<crds::IngressClassConfig>>(
        client_, ingressclassconfig::ingressClassConfigs());
  services_ = std::make_shared<runtime::Informer<crds::Service>>(
      client_, kube::resources::services(), informer_options);
  slices_ = std::make_shared<runtime::Informer<crds::EndpointSlice>>(
      client_, kube::Resource{"discovery.k8s.io", endpoint_slice_version_, "endpointslices", true},
      informer_options);
  secrets_ = std::make_shared<routes::SecretTracker>(
      client_,
      [this](const ObjectKey& key) {
        publisher_->trigger();
        if (!key.name.empty()) enqueueCertificatesUsingSecret(key);
      },
      options_.watch_namespace);
  if (certificates_served_) {
    certificates_ = std::make_shared<runtime::Informer<crds::Certificate>>(
        client_, certificate::certificates(), informer_options);
    certificate_metrics_ = certificate::makeCertificateMetrics(
        [informer = certificates_] { return informer->store().list(); });
    metrics::addCollectable(certificate_metrics_);
  }

  events_ = std::make_unique<EventRecorder>(client_, "portico", options_.identity, clock_);
  if (!options_.watch_namespace.empty()) events_->recordClusterScopedIn(options_.watch_namespace);
  ingress_status_ = std::make_unique<ingress::IngressStatusReconciler>(
      client_, ingresses_->store(), services_->store(), *publisher_, *events_,
      certificates_served_);
  ingress_status_controller_ =
      std::make_shared<runtime::Controller>("ingress-status", *ingress_status_, 2, clock_);
  static const runtime::Store<crds::IngressClassConfig> kNoConfigs;
  config_status_ = std::make_unique<ingressclassconfig::ConfigStatusReconciler>(
      client_, configs_ ? configs_->store() : kNoConfigs, *publisher_, *events_, clock_);
  routes::RouteBuilderOptions builder_options;
  builder_options.selection = options_.selection;
  builder_options.secret_grace = options_.secret_grace;
  builder_ = std::make_unique<routes::RouteBuilder>(
      builder_options, *secrets_, clock_,
      [this](const ObjectKey& config) { config_status_controller_->queue().add(config); });
  config_status_->whileUnpublished([this] { return builder_->unservedConfig(); });
  config_status_controller_ = std::make_shared<runtime::Controller>("ingressclassconfig-status",
                                                                    *config_status_, 1, clock_);

  if (certificates_) {
    certificate::CertificateOptions certificate_options = options_.certificates;
    certificate_options.served_config = [this] {
      auto current = publisher_->current();
      return current && current->built.served.config ? current->built.served.config->metadata.name
                                                     : std::string();
    };
    if (options_.replicas_service)
      certificate_options.replicas = [this, service = *options_.replicas_service] {
        return certificate::replicaAddresses(slices_->store().list(), service, "http");
      };
    certificate_reconciler_ = std::make_unique<certificate::CertificateReconciler>(
        client_, configs_->store(), *publisher_, *events_, certificate_options, clock_);
    certificate_controller_ =
        std::make_shared<runtime::Controller>("certificates", *certificate_reconciler_, 2, clock_);
    // Pending HTTP-01 tokens live in Certificate status: every change may change the snapshot.
    certificates_->addHandlers(
        {[this](const ObjectKey& key, const std::shared_ptr<const crds::Certificate>&) {
           publisher_->trigger();
           certificate_controller_->queue().add(key);
         },
         [this](const ObjectKey& key, const std::shared_ptr<const crds::Certificate>& a,
                const std::shared_ptr<const crds::Certificate>& b) {
           if (a->status.order != b->status.order) publisher_->trigger();
           certificate_controller_->queue().add(key);
         },
         [this](const ObjectKey&, const std::shared_ptr<const crds::Certificate>& last) {
           if (last->status.order) publisher_->trigger();
         }});
    certificate_controller_->onStart([this](runtime::WorkQueue& queue) {
      for (const auto& key : certificates_->store().keys()) queue.add(key);
    });
  }

  auto trigger = [this] { publisher_->trigger(); };
  auto triggerAll = [trigger]<typename T>(runtime::Informer<T>& informer) {
    informer.addHandlers(
        {[trigger](const ObjectKey&, const std::shared_ptr<const T>&) { trigger(); },
         [trigger](const ObjectKey&, const std::shared_ptr<const T>&,
                   const std::shared_ptr<const T>&) { trigger(); },
         [trigger](const ObjectKey&, const std::shared_ptr<const T>&) { trigger(); }});
  };
  triggerAll(*classes_);
  triggerAll(*slices_);
  // A publish Service's load-balancer status is copied into Ingress status: recheck them all.
  services_->addHandlers(
      {[trigger](const ObjectKey&, const std::shared_ptr<const crds::Service>&) { trigger(); },
       [this, trigger](const ObjectKey&, const std::shared_ptr<const crds::Service>& a,
                       const std::shared_ptr<const crds::Service>& b) {
         if (routingChanged(a, b) || a->ports.size() != b->ports.size()) trigger();
         if (a->status_load_balancer != b->status_load_balancer)
           for (const auto& key : ingresses_->store().keys())
             ingress_status_controller_->queue().add(key);
       },
       [trigger](const ObjectKey&, const std::shared_ptr<const crds::Service>&) { trigger(); }});
  ingresses_->addHandlers(
      {[this](const ObjectKey& key, const std::shared_ptr<const crds::Ingress>&) {
         publisher_->trigger();
         ingress_status_controller_->queue().add(key);
       },
       [this](const ObjectKey& key, const std::shared_ptr<const crds::Ingress>& a,
              const std::shared_ptr<const crds::Ingress>& b) {
         if (routingChanged(a, b)) publisher_->trigger();
         ingress_status_controller_->queue().add(key);
       },
       [this](const ObjectKey& key, const std::shared_ptr<const crds::Ingress>&) {
         publisher_->trigger();
         ingress_status_controller_->queue().add(key);
       }});
  if (configs_) {
    configs_->addHandlers(
        {[this](const ObjectKey& key, const std::shared_ptr<const crds::IngressClassConfig>&) {
           publisher_->trigger();
           config_status_controller_->queue().add(key);
         },
         [this](const ObjectKey& key, const std::shared_ptr<const crds::IngressClassConfig>& a,
                const std::shared_ptr<const crds::IngressClassConfig>& b) {
           if (routingChanged(a, b)) {
             publisher_->trigger();
             if (certificates_)  // the ACME settings may have changed
               for (const auto& cert : certificates_->store().keys())
                 certificate_controller_->queue().add(cert);
           }
           config_status_controller_->queue().add(key);
         },
         [this](const ObjectKey&, const std::shared_ptr<const crds::IngressClassConfig>&) {
           publisher_->trigger();
         }});
  }

  // After each publication the status writers look at every served Ingress (cheap when
  // nothing changed: a comparison against the cache) and at the served class's config.
  publisher_->onPublished([this](const routes::PublishedRoutes& published) {
    for (const auto& key : published.built.ingresses) ingress_status_controller_->queue().add(key);
    if (published.built.served.config)
      config_status_controller_->queue().add(published.built.served.config->metadata.key());
  });
  ingress_status_controller_->onStart([this](runtime::WorkQueue& queue) {
    for (const auto& key : ingresses_->store().keys()) queue.add(key);
  });
  config_status_controller_->onStart([this](runtime::WorkQueue& queue) {
    if (configs_)
      for (const auto& key : configs_->store().keys()) queue.add(key);
  });

  runtime::ManagerOptions manager_options;
  manager_options.leader_election = options_.leader_election;
  manager_ = std::make_unique<runtime::Manager>(&client_, manager_options, clock_);
  manager_->addCache(ingresses_);
  manager_->addCache(classes_);
  if (configs_) manager_->addCache(configs_);
  manager_->addCache(services_);
  manager_->addCache(slices_);
  if (certificates_) manager_->addCache(certificates_);
  manager_->add(secrets_);
  manager_->add(publisher_);
  manager_->addLeaderOnly(ingress_status_controller_);
  manager_->addLeaderOnly(config_status_controller_);
  if (certificate_controller_) manager_->addLeaderOnly(certificate_controller_);
}

Status ControlPlane::run(CancelSource& stop) {
  // The first build happens once the caches are full (the Manager starts runnables after sync).
  publisher_->trigger();
  return manager_->run(stop);
}

void ControlPlane::enqueueCertificatesUsingSecret(const ObjectKey& secret) {
  if (!certificates_) return;
  for (const auto& cert : certificates_->store().list())
    if (cert->metadata.namespace_ == secret.namespace_ && cert->spec.secret_name == secret.name)
      certificate_controller_->queue().add(cert->metadata.key());
}

bool ControlPlane::idle() const {
  for (const auto& controller :
       {ingress_status_controller_, config_status_controller_, certificate_controller_})
    if (controller && !controller->queue().idle()) return false;
  return publisher_->idle() && secrets_->settled();
}

bool ControlPlane::ready() const {
  return manager_->cachesSynced() && publisher_->current() != nullptr;
}

routes::BuiltRoutes ControlPlane::build() {
  routes::RouteSources sources;
  sources.ingresses = listOf(ingresses_);
  sources.classes = listOf(classes_);
  sources.configs = listOf(configs_);
  sources.services = listOf(services_);
  sources.endpoint_slices = listOf(slices_);
  sources.certificates = listOf(certificates_);
  sources.published = publisher_->current() != nullptr;
  return builder_->build(sources);
}

}  // namespace portico::controllers
