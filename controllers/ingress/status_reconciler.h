// The Ingress status writer (leader only): for each Ingress this process serves, makes
// status.loadBalancer.ingress equal to desiredLoadBalancer() and turns the route problems of
// the latest compile into Warning Events — one per problem when it first appears, not one per
// reconcile — and creates the Certificates of Ingresses that ask for ACME. Ingresses of other
// classes are never touched.
#pragma once

#include <map>
#include <set>

#include "controllers/common/event_recorder.h"
#include "controllers/routes/publisher.h"
#include "crds/ingress.h"
#include "crds/service.h"
#include "operator/base/thread_annotations.h"
#include "operator/kube/client.h"
#include "operator/runtime/reconciler.h"
#include "operator/runtime/store.h"

namespace portico::controllers::ingress {

class IngressStatusReconciler final : public runtime::Reconciler {
public:
  IngressStatusReconciler(kube::KubeClient& client, const runtime::Store<crds::Ingress>& ingresses,
                          const runtime::Store<crds::Service>& services,
                          const routes::RoutePublisher& publisher, EventRecorder& events,
                          bool certificates_served = false);

  Expected<runtime::Result> reconcile(const runtime::Request& request) override;
  long statusWrites() const { return status_writes_; }

private:
  void reportProblems(const crds::Ingress& ingress, const std::vector<routes::RouteProblem>& all);
  // Creates or updates the Certificates the Ingress asks for (tls-acme / autoTLS).
  Status ensureCertificates(const crds::Ingress& ingress, const routes::BuiltRoutes& built);

  kube::KubeClient& client_;
  const runtime::Store<crds::Ingress>& ingresses_;
  const runtime::Store<crds::Service>& services_;
  const routes::RoutePublisher& publisher_;
  EventRecorder& events_;
  bool certificates_served_;
  Mutex mutex_;
  std::map<ObjectKey, std::set<std::string>> reported_
      GUARDED_BY(mutex_);  // problems already told, per Ingress
  std::atomic<long> status_writes_{0};
};

}  // namespace portico::controllers::ingress
