#include "controllers/ingressclassconfig/status.h"

namespace portico::controllers::ingressclassconfig {

crds::IngressClassConfigStatus desiredStatus(const crds::IngressClassConfig& config,
                                             const routes::PublishedRoutes* published,
                                             const std::string& now) {
  crds::IngressClassConfigStatus status = config.status;
  const int64_t generation = config.metadata.generation;
  status.observed_generation = generation;
  auto errors = crds::validate(config.spec);
  std::string class_name = published ? published->built.served.name : "";

  crds::Condition accepted{"Accepted", "True", "Valid", "", "", generation};
  if (!errors.empty()) {
    accepted.status = "False";
    accepted.reason = "InvalidSpec";
    for (size_t i = 0; i < errors.size(); ++i) accepted.message += (i ? "; " : "") + errors[i];
  } else {
    accepted.message = class_name.empty()
                           ? "the spec is valid"
                           : "the spec is valid and IngressClass " + class_name + " uses it";
  }
  crds::setCondition(status.conditions, accepted, now);

  crds::Condition programmed{"Programmed", "Unknown", "Pending", "no route snapshot published yet",
                             "",           generation};
  if (!published && !errors.empty()) {
    programmed.status = "False";
    programmed.reason = "NotPublished";
    programmed.message = "nothing is served until the spec is valid (no valid spec before it)";
  }
  if (published && published->generation > 0) {
    const auto& built = published->built;
    status.snapshot_generation = published->generation;
    status.ingresses = static_cast<int64_t>(built.ingresses.size());
    if (errors.empty() && built.applied_config_generation == generation) {
      programmed.status = "True";
      programmed.reason = "Published";
      programmed.message = "snapshot generation " + std::to_string(published->generation) +
                           " serves " + std::to_string(built.compiled.table.routes().size()) +
                           " routes for " + std::to_string(built.ingresses.size()) + " Ingresses";
    } else {
      programmed.status = "False";
      programmed.reason = "NotPublished";
      programmed.message =
          built.applied_config_generation > 0
              ? "still serving generation " + std::to_string(built.applied_config_generation) +
                    " of this spec" + (errors.empty() ? "" : " because this one is invalid")
              : "serving built-in defaults" +
                    std::string(errors.empty() ? "" : " because this spec is invalid");
    }
  }
  crds::setCondition(status.conditions, programmed, now);
  return status;
}

bool sameStatus(const crds::IngressClassConfigStatus& observed,
                const crds::IngressClassConfigStatus& desired) {
  return observed.observed_generation == desired.observed_generation &&
         observed.snapshot_generation == desired.snapshot_generation &&
         observed.ingresses == desired.ingresses &&
         crds::sameConditions(observed.conditions, desired.conditions);
}

}  // namespace portico::controllers::ingressclassconfig
