// Lease-based leader election (coordination.k8s.io/v1), with client-go's semantics: a candidate
// takes the Lease when its holder has not renewed it for leaseDuration as observed on *our*
// monotonic clock (so wall-clock skew between nodes does not matter), the leader renews every
// retryPeriod, and gives up leading when it cannot renew within renewDeadline or sees another
// holder. On shutdown the leader releases the Lease so a successor need not wait.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "operator/base/cancel.h"
#include "operator/base/clock.h"
#include "operator/base/object_key.h"
#include "operator/kube/client.h"

namespace portico::kube {

struct LeaderElectionConfig {
  ObjectKey lease;       // namespace/name of the Lease
  std::string identity;  // unique per replica (pod name + random suffix)
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  bool release_on_cancel = true;
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& holder)> on_new_leader;  // optional
};

class LeaderElector {
public:
  LeaderElector(KubeClient& client, const Clock& clock, LeaderElectionConfig config,
                LeaderCallbacks callbacks);

  // One attempt to acquire or renew; fires callbacks on transitions. Returns when to call again.
  std::chrono::milliseconds step();

  // Calls step() until `cancel` fires; then releases the Lease if leading.
  void run(CancelSource& cancel);

  // Gives up the Lease now (holder cleared) if we hold it.
  void release();

  bool isLeader() const { return leading_; }
  const std::string& observedHolder() const { return observed_holder_; }

private:
  enum class Attempt { Held, HeldByOther, Failed };
  Attempt tryAcquireOrRenew();
  void becomeFollower();

  KubeClient& client_;
  const Clock& clock_;
  LeaderElectionConfig config_;
  LeaderCallbacks callbacks_;

  bool leading_ = false;
  Clock::MonoTime last_renew_{};
  // The last Lease record we saw and when (our clock) it last changed.
  std::string observed_record_;
  std::string observed_holder_;
  Clock::MonoTime observed_time_{};
  int observed_duration_seconds_ = 0;
};

}  // namespace portico::kube
