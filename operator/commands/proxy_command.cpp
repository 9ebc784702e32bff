#include "operator/commands/proxy_command.h"

#include <iostream>

#include "operator/base/metrics.h"
#include "operator/commands/data_plane.h"
#include "operator/commands/health_server.h"
#include "operator/commands/proxy_metrics.h"
#include "operator/commands/termination_watch.h"

namespace portico::commands {

int runProxy(const ProxyFlags& flags) {
  TerminationWatch signals;
  CancelSource& stop = signals.stop();
  DataPlane plane(flags);
  auto proxy_metrics = makeProxyMetrics(plane);
  metrics::addCollectable(proxy_metrics);
  HealthServer health([&plane] { return plane.serving(); });
  if (!flags.metrics_address.empty()) {
    if (Status st = health.start(flags.metrics_address); !st) {
      std::cerr << "portico: " << st.message() << "\n";
      return 1;
    }
  }
  Status st = plane.run(
      stop,
      [](const std::string& listening) { std::cout << "listening on " << listening << std::endl; },
      &signals.hurry());
  health.stop();
  if (!st) {
    std::cerr << "portico: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace portico::commands
