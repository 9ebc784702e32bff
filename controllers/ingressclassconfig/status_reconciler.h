// Writes the status of the IngressClassConfig that our served IngressClass references (leader
// only). Configs of classes served by another Portico deployment are left to it.
#pragma once

#include <atomic>
#include <functional>

#include "controllers/common/event_recorder.h"
#include "controllers/routes/publisher.h"
#include "crds/ingress_class_config.h"
#include "operator/base/clock.h"
#include "operator/kube/client.h"
#include "operator/runtime/reconciler.h"
#include "operator/runtime/store.h"

namespace portico::controllers::ingressclassconfig {

kube::Resource ingressClassConfigs();

class ConfigStatusReconciler final : public runtime::Reconciler {
public:
  ConfigStatusReconciler(kube::KubeClient& client,
                         const runtime::Store<crds::IngressClassConfig>& configs,
                         const routes::RoutePublisher& publisher, EventRecorder& events,
                         const Clock& clock = SystemClock::instance());

  Expected<runtime::Result> reconcile(const runtime::Request& request) override;
  // While nothing is published (no valid spec yet), the name of the class's config, whose
  // status is written all the same (Accepted=False says why nothing is served).
  void whileUnpublished(std::function<std::string()> served_config) {
    unpublished_config_ = std::move(served_config);
  }
  long statusWrites() const { return status_writes_; }

private:
  kube::KubeClient& client_;
  const runtime::Store<crds::IngressClassConfig>& configs_;
  const routes::RoutePublisher& publisher_;
  EventRecorder& events_;
  const Clock& clock_;
  std::atomic<long> status_writes_{0};
  std::function<std::string()> unpublished_config_;
};

}  // namespace portico::controllers::ingressclassconfig
