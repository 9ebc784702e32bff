// RouteBuilder: one consistent read of the caches → what the publisher compiles and serves.
// It owns the "last good" state that keeps a working proxy working through bad input:
//   - the class settings: the config's when valid; the last valid ones while it is not, or is
//     gone (a typo must not move the listeners); nothing at all — not even built-in defaults on
//     0.0.0.0:80/443 — while a class's config has never been valid;
//   - each TLS Secret's last servable version (see RouteInputs::last_good_secrets);
//   - the first snapshot waits up to `secret_grace` for the referenced Secrets, so a restart
//     does not serve the default certificate to hosts whose Secret is still being fetched.
// Called by one thread at a time (the publisher's); unservedConfig() from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controllers/routes/publisher.h"
#include "controllers/routes/secret_source.h"
#include "controllers/selection/selection.h"
#include "crds/certificate.h"
#include "operator/base/clock.h"
#include "operator/base/thread_annotations.h"

namespace portico::controllers::routes {

// The cached objects one build reads.
struct RouteSources {
  std::vector<std::shared_ptr<const crds::Ingress>> ingresses;
  std::vector<std::shared_ptr<const crds::IngressClass>> classes;
  std::vector<std::shared_ptr<const crds::IngressClassConfig>> configs;
  std::vector<std::shared_ptr<const crds::Service>> services;
  std::vector<std::shared_ptr<const crds::EndpointSlice>> endpoint_slices;
  std::vector<std::shared_ptr<const crds::Certificate>> certificates;  // pending HTTP-01 tokens
  bool published = false;  // a snapshot is in service already
};

struct RouteBuilderOptions {
  selection::SelectionOptions selection;
  std::chrono::milliseconds secret_grace{3000};
};

class RouteBuilder {
public:
  // `on_unserved_config` runs (on the building thread) when the class's config becomes the
  // reason nothing is served, once per new problem: its status must say why, though no
  // publication will prompt the status writer.
  RouteBuilder(RouteBuilderOptions options, SecretSource& secrets, const Clock& clock,
               std::function<void(const ObjectKey&)> on_unserved_config = {});

  BuiltRoutes build(const RouteSources& sources);

  // The class's config while no valid spec has ever been served ("" otherwise).
  std::string unservedConfig() const;

private:
  // The settings to build with, or none when nothing may be served yet.
  std::optional<crds::IngressClassConfigSpec> classSettings(const selection::ServedClass& served,
                                                            BuiltRoutes& out);
  void rememberServableSecrets(const std::vector<std::shared_ptr<const crds::Secret>>& secrets);

  const RouteBuilderOptions options_;
  SecretSource& secrets_;
  const Clock& clock_;
  const std::function<void(const ObjectKey&)> on_unserved_config_;

  // Touched only by the building thread.
  std::optional<crds::IngressClassConfigSpec> last_good_spec_;
  int64_t last_good_generation_ = 0;
  std::string last_config_problem_;
  std::optional<Clock::MonoTime> unsettled_since_;
  std::map<ObjectKey, std::shared_ptr<const crds::Secret>> last_good_secrets_;

  mutable Mutex unserved_mutex_;
  std::string unserved_config_ GUARDED_BY(unserved_mutex_);
};

}  // namespace portico::controllers::routes
