// TerminationWatch: a command's SIGTERM/SIGINT. The first signal cancels stop() (a graceful
// shutdown: the proxy drains); a second cancels hurry() (stop draining, exit now). The watcher
// thread is joined when the command returns. main() must have called
// runtime::blockTerminationSignals() before any thread started.
#pragma once

#include <thread>

#include "operator/base/cancel.h"
#include "operator/runtime/manager.h"

namespace portico::commands {

class TerminationWatch {
public:
  TerminationWatch() : thread_(runtime::watchTerminationSignals(stop_, hurry_)) {}
  ~TerminationWatch() {
    stop_.cancel();
    hurry_.cancel();
    thread_.join();
  }
  TerminationWatch(const TerminationWatch&) = delete;
  TerminationWatch& operator=(const TerminationWatch&) = delete;

  CancelSource& stop() { return stop_; }
  const CancelSource& hurry() const { return hurry_; }

private:
  CancelSource stop_;
  CancelSource hurry_;
  std::thread thread_;  // last: it uses the two above
};

}  // namespace portico::commands
