// The controller-runtime contract: a request is only a key; a reconcile returns when to look
// again, or an error. Errors are retried with per-key backoff unless marked terminal (a user
// mistake that retrying cannot fix: report it in status and wait for the object to change).
#pragma once

#include <chrono>

#include "operator/base/object_key.h"
#include "operator/base/status.h"

namespace portico::runtime {

struct Request {
  ObjectKey key;
};

struct Result {
  std::chrono::milliseconds requeue_after{0};  // 0: only when something changes
};

class Reconciler {
public:
  virtual ~Reconciler() = default;
  virtual Expected<Result> reconcile(const Request& request) = 0;
};

// An error that must not be retried.
// Look again after `delay` (a successful reconcile that is waiting for something).
inline Result requeueAfter(std::chrono::milliseconds delay) {
  return Result{delay};
}

inline Status terminalError(Status status) {
  status.markTerminal();
  return status;
}

}  // namespace portico::runtime
