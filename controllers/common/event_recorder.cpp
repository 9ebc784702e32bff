#include "controllers/common/event_recorder.h"

#include <cstdio>

#include "operator/base/log.h"
#include "operator/base/time_format.h"

namespace portico::controllers {

EventRecorder::EventRecorder(kube::KubeClient& client, std::string component, std::string instance,
                             const Clock& clock)
    : client_(client),
      component_(std::move(component)),
      instance_(std::move(instance)),
      clock_(clock) {}

void EventRecorder::record(const ObjectReference& object, const std::string& type,
                           const std::string& reason, const std::string& message) {
  auto now = clock_.now();
  const std::string stamp = formatRfc3339(now);
  // Unique per object like client-go's "<name>.<hex nanoseconds>", plus a sequence number so two
  // events in one clock tick do not collide.
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, ".%llx%02llx",
                static_cast<unsigned long long>(now.time_since_epoch().count()),
                static_cast<unsigned long long>(sequence_.fetch_add(1) % 256));
  const std::string ns = object.namespace_.empty() ? cluster_scoped_namespace_ : object.namespace_;
  kube::Json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", object.name + suffix}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", object.api_version}, {"kind", object.kind}, {"name", object.name}}},
      {"reason", reason},
      {"message", message.size() > 1024 ? message.substr(0, 1021) + "..." : message},
      {"type", type},
      {"source", {{"component", component_}}},
      {"reportingComponent", component_},
      {"reportingInstance", instance_},
      {"firstTimestamp", stamp},
      {"lastTimestamp", stamp},
      {"count", 1}};
  if (!object.namespace_.empty()) event["involvedObject"]["namespace"] = object.namespace_;
  if (!object.uid.empty()) event["involvedObject"]["uid"] = object.uid;
  auto created = client_.create(kube::resources::events(), event);
  if (!created) {
    log::warn("event not recorded", {{"object", object.kind + " " + ns + "/" + object.name},
                                     {"reason", reason},
                                     {"error", created.error().toString()}});
    return;
  }
  ++recorded_;
}

}  // namespace portico::controllers
