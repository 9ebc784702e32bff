// RouteInputs from manifest objects instead of informer caches: what `portico snapshot compile`
// and `portico explain` run on. Class selection and the IngressClassConfig's listeners apply
// exactly as in a cluster.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "controllers/routes/compile.h"
#include "operator/base/status.h"
#include "operator/local/manifests.h"

namespace portico::commands {

struct OfflineInputs {
  controllers::routes::RouteInputs inputs;
  std::string ingress_class;             // the IngressClass served ("" if none of ours)
  std::vector<ObjectKey> other_classes;  // Ingresses left alone: another controller's class
};

// Decode errors name the object's origin (file#document), kind, key and the bad field.
Expected<OfflineInputs> inputsFromManifests(const std::vector<local::ManifestObject>& objects,
                                            std::chrono::system_clock::time_point now);

}  // namespace portico::commands
