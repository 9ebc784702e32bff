#include "controllers/ingress/status_reconciler.h"

#include "controllers/certificate/reconciler.h"
#include "controllers/ingress/certificates.h"
#include "controllers/ingress/status.h"
#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"

namespace portico::controllers::ingress {

IngressStatusReconciler::IngressStatusReconciler(kube::KubeClient& client,
                                                 const runtime::Store<crds::Ingress>& ingresses,
                                                 const runtime::Store<crds::Service>& services,
                                                 const routes::RoutePublisher& publisher,
                                                 EventRecorder& events, bool certificates_served)
    : client_(client),
      ingresses_(ingresses),
      services_(services),
      publisher_(publisher),
      events_(events),
      certificates_served_(certificates_served) {}

Expected<runtime::Result> IngressStatusReconciler::reconcile(const runtime::Request& request) {
  auto ingress = ingresses_.get(request.key);
  if (!ingress) {
    MutexLock lock(mutex_);
    reported_.erase(request.key);
    return runtime::Result{};
  }
  auto published = publisher_.current();
  // Not published yet, or not ours: nothing to say (the next publication enqueues it again).
  if (!published || !published->built.ingresses.count(request.key)) return runtime::Result{};

  const auto& built = published->built;
  crds::IngressClassConfigSpec spec = built.applied_spec.value_or(crds::IngressClassConfigSpec{});
  std::shared_ptr<const crds::Service> publish_service;
  if (spec.status_publishing.service)
    publish_service = services_.get(*spec.status_publishing.service);
  auto desired = desiredLoadBalancer(spec, publish_service.get());

  if (ingress->status_load_balancer != desired) {
    kube::Json patch = {
        {"status", {{"loadBalancer", {{"ingress", crds::loadBalancerToJson(desired)}}}}}};
    kube::PatchOptions options;
    options.subresource = "status";
    auto written = client_.patch(kube::resources::ingresses(), request.key, kube::PatchType::Merge,
                                 patch.dump(), options);
    if (!written) {
      if (written.error().code() == ErrorCode::NotFound) return runtime::Result{};
      return written.error();
    }
    ++status_writes_;
    log::debug("ingress status written", {{"ingress", request.key.toString()}});
  }
  reportProblems(*ingress, built.compiled.problems);
  if (certificates_served_)
    if (Status st = ensureCertificates(*ingress, built); !st) return st;
  return runtime::Result{};
}

Status IngressStatusReconciler::ensureCertificates(const crds::Ingress& ingress,
                                                   const routes::BuiltRoutes& built) {
  const bool auto_tls =
      built.applied_spec && built.applied_spec->acme && built.applied_spec->acme->auto_tls;
  const std::string issuer = built.served.config ? built.served.config->metadata.name : "";
  for (const auto& desired : desiredCertificates(ingress, auto_tls, issuer)) {
    const ObjectKey key = desired.metadata.key();
    auto existing = client_.get(certificate::certificates(), key);
    if (!existing) {
      if (existing.error().code() != ErrorCode::NotFound) return existing.error();
      kube::Json object = desired;
      object.erase("status");
      auto created = client_.create(certificate::certificates(), object);
      if (!created && created.error().code() != ErrorCode::AlreadyExists) return created.error();
      log::info("certificate created for ingress",
                {{"ingress", ingress.metadata.key().toString()}, {"certificate", key.toString()}});
      continue;
    }
    crds::Certificate current = existing->get<crds::Certificate>();
    bool ours = false;
    for (const auto& owner : current.metadata.owner_references)
      if (owner.kind == "Ingress" && owner.name == ingress.metadata.name) ours = true;
    if (!ours) {
      events_.record({"networking.k8s.io/v1", "Ingress", ingress.metadata.namespace_,
                      ingress.metadata.name, ingress.metadata.uid},
                     "Warning", "CertificateConflict",
                     "Certificate " + key.toString() + " exists and belongs to something else");
      continue;
    }
    const std::string renew = desired.metadata.annotation(kRenewAnnotation);
    if (current.spec.dns_names == desired.spec.dns_names &&
        current.spec.issuer == desired.spec.issuer &&
        (renew.empty() || current.metadata.annotation(kRenewAnnotation) == renew))
      continue;
    kube::Json patch = {
        {"spec",
         {{"dnsNames", desired.spec.dns_names}, {"issuerRef", {{"name", desired.spec.issuer}}}}}};
    if (!renew.empty()) patch["metadata"]["annotations"][kRenewAnnotation] = renew;
    auto patched =
        client_.patch(certificate::certificates(), key, kube::PatchType::Merge, patch.dump(), {});
    if (!patched) return patched.error();
  }
  return Status::ok();
}

void IngressStatusReconciler::reportProblems(const crds::Ingress& ingress,
                                             const std::vector<routes::RouteProblem>& all) {
  const ObjectKey key = ingress.metadata.key();
  std::set<std::string> current;
  std::vector<const routes::RouteProblem*> fresh;
  {
    MutexLock lock(mutex_);
    const auto& before = reported_[key];
    for (const auto& problem : all) {
      if (problem.ingress != key) continue;
      std::string id = std::string(routes::problemKindName(problem.kind)) + "\n" + problem.message;
      if (!before.count(id)) fresh.push_back(&problem);
      current.insert(std::move(id));
    }
    reported_[key] = current;
  }
  ObjectReference ref{"networking.k8s.io/v1", "Ingress", key.namespace_, key.name,
                      ingress.metadata.uid};
  for (const auto* problem : fresh)
    events_.record(ref, "Warning", routes::problemKindName(problem->kind), problem->message);
}

}  // namespace portico::controllers::ingress
