// `portico proxy --snapshot PATH`: the data plane alone, serving whatever a control plane (or
// `portico snapshot compile`) publishes into the snapshot file. Returns the exit code.
#pragma once

#include <string>

#include "operator/commands/data_plane.h"

namespace portico::commands {

struct ProxyFlags : DataPlaneOptions {
  std::string metrics_address;  // host:port for /metrics, /healthz, /readyz; "" = none
};

int runProxy(const ProxyFlags& flags);

}  // namespace portico::commands
