// MemoryKubeClient: an in-memory API server behind the KubeClient interface, with
// resourceVersions, optimistic concurrency (409), AlreadyExists/NotFound, paging, merge patch,
// simple field selectors (metadata.name, metadata.namespace, type), and watches fed from a
// bounded event history (410 Gone once the history is compacted past the requested version).
// The history is bounded by count and by bytes, and holds events serialized (a parsed JSON
// object costs several times its text): churn cannot grow memory without bound.
// It is the object store of `portico local` and the fake API server of unit tests; failure
// injection (setUnavailable, setWatchesBroken, compact, closeWatches) serves the tests.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>

#include "operator/base/thread_annotations.h"
#include "operator/kube/client.h"

namespace portico::local {

class MemoryKubeClient final : public kube::KubeClient {
public:
  Expected<kube::Json> get(const kube::Resource& resource, const ObjectKey& key) override;
  Expected<kube::ListPage> list(const kube::Resource& resource, const std::string& ns,
                                const kube::ListOptions& options) override;
  Status watch(const kube::Resource& resource, const std::string& ns,
               const kube::WatchOptions& options, const kube::WatchHandler& handler,
               CancelSource& cancel) override;
  Expected<kube::Json> create(const kube::Resource& resource, const kube::Json& object) override;
  Expected<kube::Json> update(const kube::Resource& resource, const kube::Json& object) override;
  Expected<kube::Json> updateStatus(const kube::Resource& resource,
                                    const kube::Json& object) override;
  Expected<kube::Json> patch(const kube::Resource& resource, const ObjectKey& key,
                             kube::PatchType type, const std::string& body,
                             const kube::PatchOptions& options) override;
  Status remove(const kube::Resource& resource, const ObjectKey& key,
                const kube::DeleteOptions& options) override;
  Expected<std::vector<kube::GroupVersion>> serverGroupVersions() override;

  // Test controls.
  void setUnavailable(bool unavailable);
  // Namespaced resources answer in `ns` only, as with a namespaced Role ("" lifts it).
  void confineTo(std::string ns);
  // Watches fail (open ones end, new ones are refused) while writes still work.
  void setWatchesBroken(bool broken);
  // Forget history up to the current version: older watches get 410 Gone.
  void compact();
  // Ends every open watch as the server's timeout would.
  void closeWatches();
  int64_t currentVersion() const;
  int callCount(const std::string& verb) const;
  void setServedGroupVersions(std::vector<kube::GroupVersion> served);

private:
  struct Event {
    int64_t rv;
    std::string resource_id;
    kube::WatchEventType type;
    std::string object;  // serialized JSON, parsed for the watchers that read it
  };
  static std::string idOf(const kube::Resource& r) { return r.toString(); }
  Status checkAvailableLocked(const std::string& verb, const kube::Resource& r,
                              const std::string& ns) REQUIRES(mutex_);
  void recordLocked(const kube::Resource& r, kube::WatchEventType type, const kube::Json& object)
      REQUIRES(mutex_);
  Expected<kube::Json> writeLocked(const kube::Resource& r, kube::Json object, bool status_only)
      REQUIRES(mutex_);

public:
  static constexpr size_t kMaxHistory = 50000;
  static constexpr size_t kMaxHistoryBytes = 32 << 20;
  // What the event history holds now (events, bytes of text).
  size_t historyEvents() const;
  size_t historyBytes() const;

private:
  mutable Mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, std::map<ObjectKey, kube::Json>> objects_ GUARDED_BY(mutex_);
  std::deque<Event> history_ GUARDED_BY(mutex_);
  size_t history_bytes_ GUARDED_BY(mutex_) = 0;
  int64_t rv_ GUARDED_BY(mutex_) = 100;
  int64_t compacted_rv_ GUARDED_BY(mutex_) = 0;
  uint64_t watch_epoch_ GUARDED_BY(mutex_) = 0;
  bool unavailable_ GUARDED_BY(mutex_) = false;
  bool watches_broken_ GUARDED_BY(mutex_) = false;
  std::string confined_to_ GUARDED_BY(mutex_);
  std::map<std::string, int> calls_ GUARDED_BY(mutex_);
  std::vector<kube::GroupVersion> served_ GUARDED_BY(mutex_){{"", "v1"},
                                                             {"networking.k8s.io", "v1"},
                                                             {"coordination.k8s.io", "v1"},
                                                             {"discovery.k8s.io", "v1beta1"}};
};

}  // namespace portico::local
