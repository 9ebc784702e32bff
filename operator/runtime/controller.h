// Controller: N workers taking keys from a WorkQueue and calling a Reconciler.
//   ok, requeue_after == 0 → forget the key's failures
//   ok, requeue_after > 0  → forget failures, come back after that delay
//   error (not terminal)   → back off per key and retry
//   terminal error         → forget; the next change to the object triggers a new reconcile
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "operator/runtime/reconciler.h"
#include "operator/runtime/runnable.h"
#include "operator/runtime/work_queue.h"

namespace portico::runtime {

struct ControllerStats {
  std::atomic<long> reconciles{0};
  std::atomic<long> errors{0};
  std::atomic<long> requeues{0};
};

class Controller final : public Runnable {
public:
  Controller(std::string name, Reconciler& reconciler, int workers = 1,
             const Clock& clock = SystemClock::instance());

  std::string name() const override { return "controller/" + name_; }
  WorkQueue& queue() { return queue_; }
  // Runs at the start of every run(): a leader-only controller that starts leading enqueues
  // every object here, since keys added while it was not leading were dropped.
  void onStart(std::function<void(WorkQueue&)> callback) { on_start_ = std::move(callback); }
  const ControllerStats& stats() const { return stats_; }

  // Runs the workers until cancelled; shuts the queue down and waits for in-flight reconciles.
  void run(CancelSource& cancel) override;

  // One worker iteration: take a key (waiting up to max_wait) and reconcile it. Returns false
  // when nothing was processed. Exposed for deterministic tests.
  bool processNext(std::chrono::milliseconds max_wait);

private:
  std::string name_;
  Reconciler& reconciler_;
  int workers_;
  WorkQueue queue_;
  ControllerStats stats_;
  std::function<void(WorkQueue&)> on_start_;
};

}  // namespace portico::runtime
