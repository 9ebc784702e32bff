#include "operator/kube/leader_election.h"

#include "operator/base/backoff.h"
#include "operator/base/log.h"
#include "operator/base/time_format.h"

namespace portico::kube {

namespace {

int ceilSeconds(std::chrono::milliseconds d) {
  return static_cast<int>((d.count() + 999) / 1000);
}

// What identifies one renewal: if any of these change, the holder is alive.
std::string recordOf(const Json& spec) {
  return spec.value("holderIdentity", "") + "|" + spec.value("renewTime", "") + "|" +
         spec.value("acquireTime", "") + "|" + std::to_string(spec.value("leaseTransitions", 0));
}

}  // namespace

LeaderElector::LeaderElector(KubeClient& client, const Clock& clock, LeaderElectionConfig config,
                             LeaderCallbacks callbacks)
    : client_(client),
      clock_(clock),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)) {}

LeaderElector::Attempt LeaderElector::tryAcquireOrRenew() {
  const auto now_wall = formatRfc3339Micro(clock_.now());
  const auto now = clock_.steadyNow();
  auto existing = client_.get(resources::leases(), config_.lease);
  if (!existing) {
    if (existing.error().code() != ErrorCode::NotFound) {
      log::warn("leader election: cannot read lease",
                {{"lease", config_.lease.toString()}, {"error", existing.error().toString()}});
      return Attempt::Failed;
    }
    Json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"namespace", config_.lease.namespace_}, {"name", config_.lease.name}}},
        {"spec",
         {{"holderIdentity", config_.identity},
          {"leaseDurationSeconds", ceilSeconds(config_.lease_duration)},
          {"acquireTime", now_wall},
          {"renewTime", now_wall},
          {"leaseTransitions", 0}}}};
    auto created = client_.create(resources::leases(), lease);
    if (!created) return Attempt::Failed;  // AlreadyExists: someone else was faster
    observed_record_ = recordOf((*created)["spec"]);
    observed_holder_ = config_.identity;
    observed_time_ = now;
    return Attempt::Held;
  }

  Json lease = std::move(*existing);
  Json& spec = lease["spec"];
  if (!spec.is_object()) spec = Json::object();
  std::string holder = spec.value("holderIdentity", "");
  std::string record = recordOf(spec);
  if (record != observed_record_) {
    observed_record_ = record;
    observed_time_ = now;
    observed_duration_seconds_ =
        spec.value("leaseDurationSeconds", ceilSeconds(config_.lease_duration));
  }
  if (holder != observed_holder_) {
    observed_holder_ = holder;
    if (callbacks_.on_new_leader && !holder.empty()) callbacks_.on_new_leader(holder);
  }
  bool held_by_other = !holder.empty() && holder != config_.identity &&
                       now < observed_time_ + std::chrono::seconds(observed_duration_seconds_);
  if (held_by_other) return Attempt::HeldByOther;

  if (holder != config_.identity) {
    spec["acquireTime"] = now_wall;
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + (holder.empty() ? 0 : 1);
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = ceilSeconds(config_.lease_duration);
  spec["renewTime"] = now_wall;
  auto updated = client_.update(resources::leases(), lease);
  if (!updated) return Attempt::Failed;  // Conflict: another candidate wrote first
  observed_record_ = recordOf((*updated)["spec"]);
  observed_holder_ = config_.identity;
  observed_time_ = now;
  return Attempt::Held;
}

void LeaderElector::becomeFollower() {
  if (!leading_) return;
  leading_ = false;
  log::warn("leader election: stopped leading",
            {{"lease", config_.lease.toString()}, {"identity", config_.identity}});
  if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
}

std::chrono::milliseconds LeaderElector::step() {
  Attempt attempt = tryAcquireOrRenew();
  auto now = clock_.steadyNow();
  if (leading_) {
    if (attempt == Attempt::Held) {
      last_renew_ = now;
    } else if (attempt == Attempt::HeldByOther || now - last_renew_ >= config_.renew_deadline) {
      becomeFollower();  // leader-only work must stop at once
    }
  } else if (attempt == Attempt::Held) {
    leading_ = true;
    last_renew_ = now;
    log::info("leader election: started leading",
              {{"lease", config_.lease.toString()}, {"identity", config_.identity}});
    if (callbacks_.on_started_leading) callbacks_.on_started_leading();
  }
  if (leading_) return config_.retry_period;
  // Followers spread their attempts (client-go's JitterUntil with factor 1.2).
  return std::chrono::milliseconds(
      static_cast<long long>(config_.retry_period.count() * (1.0 + 0.2 * randomJitter())));
}

void LeaderElector::run(CancelSource& cancel) {
  while (!cancel.cancelled()) {
    auto wait = step();
    if (!cancel.sleepFor(wait)) break;
  }
  if (leading_ && config_.release_on_cancel) release();
  becomeFollower();
}

void LeaderElector::release() {
  if (!leading_) return;
  auto existing = client_.get(resources::leases(), config_.lease);
  if (!existing) return;
  Json lease = std::move(*existing);
  if (lease["spec"].value("holderIdentity", "") != config_.identity) return;
  // As client-go: clear the holder and shorten the lease so a successor takes it at once.
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = formatRfc3339Micro(clock_.now());
  if (auto st = client_.update(resources::leases(), lease); !st)
    log::warn("leader election: release failed", {{"error", st.error().toString()}});
  else
    log::info("leader election: released lease", {{"lease", config_.lease.toString()}});
}

}  // namespace portico::kube
