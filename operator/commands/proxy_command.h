// `portico proxy --snapshot PATH`: the data plane alone, serving whatever a control plane (or
// `portico snapshot compile`) publishes into the snapshot file. Returns the exit code.
#pragma once

#include <string>

#include "operator/proxy/proxy_settings.h"

namespace portico::commands {

struct ProxyFlags {
  std::string snapshot_path;
  std::string http_address;  // default: the snapshot's listener address
  int http_port = -1;        // default: the snapshot's listener port; 0 picks a free one
  int https_port = -1;       // likewise for HTTPS; -2 disables the TLS listener
  int workers = 0;           // default: one per core
  proxy::ProxySettings settings;
};

int runProxy(const ProxyFlags& flags);

}  // namespace portico::commands
