// Runnable: something the Manager runs on a thread of its own until cancelled.
#pragma once

#include <string>

#include "operator/base/cancel.h"

namespace portico::runtime {

class Runnable {
public:
  virtual ~Runnable() = default;
  virtual std::string name() const = 0;
  // Blocks until `cancel` fires (or the work ends by itself).
  virtual void run(CancelSource& cancel) = 0;
};

// A Runnable that fills a cache; the Manager starts controllers only after every one has synced.
class SyncedRunnable : public Runnable {
public:
  virtual bool hasSynced() const = 0;
};

}  // namespace portico::runtime
