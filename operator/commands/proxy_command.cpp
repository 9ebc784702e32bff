#include "operator/commands/proxy_command.h"

#include <iostream>

#include "operator/commands/data_plane.h"
#include "operator/runtime/manager.h"

namespace portico::commands {

int runProxy(const ProxyFlags& flags) {
  CancelSource stop;
  auto signals = runtime::watchTerminationSignals(stop);
  DataPlane plane(flags);
  Status st = plane.run(stop, [](const std::string& listening) {
    std::cout << "listening on " << listening << std::endl;
  });
  stop.cancel();
  signals.join();
  if (!st) {
    std::cerr << "portico: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace portico::commands
