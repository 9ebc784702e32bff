// SecretTracker: the Secrets that served Ingresses reference, and only those (cert-manager's
// cluster-wide Secret cache is what blows up its memory). A wanted Secret is fetched with GET
// when it becomes wanted; afterwards one cluster-wide watch of kubernetes.io/tls Secrets
// (started from the current resourceVersion, so existing Secrets are not replayed) keeps the
// wanted ones fresh, and everything else in the stream is dropped at once. After a 410 or a
// reconnect every wanted Secret is fetched again.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "controllers/routes/secret_source.h"
#include "crds/secret.h"
#include "operator/base/thread_annotations.h"
#include "operator/kube/client.h"
#include "operator/runtime/runnable.h"

namespace portico::controllers::routes {

class SecretTracker final : public runtime::Runnable, public SecretSource {
public:
  // `on_change` runs (on the tracker's threads) with the key of a wanted Secret that appeared,
  // changed or went away (an empty key when the initial fetches have settled).
  using OnChange = std::function<void(const ObjectKey&)>;
  // `watch_namespace`: the one namespace whose Secrets are watched ("" = all of them, which a
  // namespaced install's Role does not allow).
  SecretTracker(kube::KubeClient& client, OnChange on_change, std::string watch_namespace = {});

  std::string name() const override { return "secret-tracker"; }
  void run(CancelSource& cancel) override;

  // Replaces the wanted set; Secrets no longer wanted are forgotten at once.
  void setWanted(const std::set<ObjectKey>& wanted) override;
  // The wanted Secrets that exist (a missing one is simply absent).
  std::vector<std::shared_ptr<const crds::Secret>> secrets() const override;
  size_t cachedCount() const;
  // True once every wanted Secret has been fetched at least once (found or not).
  bool settled() const override;

private:
  void fetchPending(CancelSource& cancel);
  void watchLoop(CancelSource& cancel);
  bool store(const ObjectKey& key, std::shared_ptr<const crds::Secret> secret);

  kube::KubeClient& client_;
  OnChange on_change_;
  const std::string watch_namespace_;
  mutable Mutex mutex_;
  std::condition_variable cv_;
  std::set<ObjectKey> wanted_ GUARDED_BY(mutex_);
  std::set<ObjectKey> pending_ GUARDED_BY(mutex_);  // wanted, not fetched yet
  std::map<ObjectKey, std::shared_ptr<const crds::Secret>> cache_ GUARDED_BY(mutex_);
  std::map<ObjectKey, std::string> resource_versions_ GUARDED_BY(mutex_);
};

}  // namespace portico::controllers::routes
