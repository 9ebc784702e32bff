#include "controllers/ingressclassconfig/status_reconciler.h"

#include "controllers/ingressclassconfig/status.h"
#include "operator/base/time_format.h"

namespace portico::controllers::ingressclassconfig {

kube::Resource ingressClassConfigs() {
  return {crds::kPorticoGroup, crds::kPorticoVersion, "ingressclassconfigs", false};
}

ConfigStatusReconciler::ConfigStatusReconciler(
    kube::KubeClient& client, const runtime::Store<crds::IngressClassConfig>& configs,
    const routes::RoutePublisher& publisher, EventRecorder& events, const Clock& clock)
    : client_(client), configs_(configs), publisher_(publisher), events_(events), clock_(clock) {}

Expected<runtime::Result> ConfigStatusReconciler::reconcile(const runtime::Request& request) {
  auto config = configs_.get(request.key);
  auto published = publisher_.current();
  if (!config) return runtime::Result{};
  if (published) {
    const auto& served = published->built.served;
    if (!served.config || served.config->metadata.name != config->metadata.name)
      return runtime::Result{};  // not the config of the class we serve
  } else if (!unpublished_config_ || unpublished_config_() != config->metadata.name) {
    return runtime::Result{};
  }

  auto desired =
      desiredStatus(*config, published ? published.get() : nullptr, formatRfc3339(clock_.now()));
  if (sameStatus(config->status, desired)) return runtime::Result{};

  const auto* was = crds::findCondition(config->status.conditions, "Accepted");
  const auto* now = crds::findCondition(desired.conditions, "Accepted");
  if (now && now->status == "False" &&
      (!was || was->status != "False" || was->message != now->message))
    events_.record({"portico.io/v1alpha1", "IngressClassConfig", "", config->metadata.name,
                    config->metadata.uid},
                   "Warning", now->reason, now->message);

  kube::PatchOptions options;
  options.subresource = "status";
  kube::Json patch = {{"status", desired}};
  auto written = client_.patch(ingressClassConfigs(), request.key, kube::PatchType::Merge,
                               patch.dump(), options);
  if (!written) {
    if (written.error().code() == ErrorCode::NotFound) return runtime::Result{};
    return written.error();
  }
  ++status_writes_;
  return runtime::Result{};
}

}  // namespace portico::controllers::ingressclassconfig
