// Status conditions (metav1.Condition) and the pure helpers that keep them: a condition's
// lastTransitionTime moves only when its status changes, so rewriting the same reason is not a
// transition (cert-manager and the Kubernetes API conventions agree on this).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crds/meta.h"

namespace portico::crds {

struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;  // CamelCase, machine-readable
  std::string message;
  std::string last_transition_time;  // RFC 3339
  int64_t observed_generation = 0;
  bool operator==(const Condition&) const = default;
};

void from_json(const Json& j, Condition& out);
void to_json(Json& j, const Condition& in);

const Condition* findCondition(const std::vector<Condition>& conditions, const std::string& type);

// Sets `condition` (matched by type). The transition time is `now` when the status changed or the
// condition is new; otherwise the previous transition time is kept.
void setCondition(std::vector<Condition>& conditions, Condition condition, const std::string& now);

// Equal ignoring lastTransitionTime (what decides whether status needs writing).
bool sameConditions(const std::vector<Condition>& a, const std::vector<Condition>& b);

}  // namespace portico::crds
