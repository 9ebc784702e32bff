#include "crds/conditions.h"

#include <nlohmann/json.hpp>

namespace portico::crds {

void from_json(const Json& j, Condition& out) {
  out = Condition{};
  out.type = j.value("type", "");
  out.status = j.value("status", "Unknown");
  out.reason = j.value("reason", "");
  out.message = j.value("message", "");
  out.last_transition_time = j.value("lastTransitionTime", "");
  out.observed_generation = j.value("observedGeneration", int64_t{0});
}

void to_json(Json& j, const Condition& in) {
  j = Json{{"type", in.type},
           {"status", in.status},
           {"reason", in.reason},
           {"message", in.message},
           {"lastTransitionTime", in.last_transition_time}};
  if (in.observed_generation > 0) j["observedGeneration"] = in.observed_generation;
}

const Condition* findCondition(const std::vector<Condition>& conditions, const std::string& type) {
  for (const auto& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

void setCondition(std::vector<Condition>& conditions, Condition condition, const std::string& now) {
  for (auto& existing : conditions) {
    if (existing.type != condition.type) continue;
    condition.last_transition_time =
        existing.status == condition.status && !existing.last_transition_time.empty()
            ? existing.last_transition_time
            : now;
    existing = std::move(condition);
    return;
  }
  condition.last_transition_time = now;
  conditions.push_back(std::move(condition));
}

bool sameConditions(const std::vector<Condition>& a, const std::vector<Condition>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& x : a) {
    const Condition* y = findCondition(b, x.type);
    if (!y || y->status != x.status || y->reason != x.reason || y->message != x.message ||
        y->observed_generation != x.observed_generation)
      return false;
  }
  return true;
}

}  // namespace portico::crds
