#include "operator/runtime/controller.h"

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "operator/base/log.h"
#include "operator/base/metrics.h"

namespace portico::runtime {

Controller::Controller(std::string name, Reconciler& reconciler, int workers, const Clock& clock)
    : name_(std::move(name)),
      reconciler_(reconciler),
      workers_(std::max(1, workers)),
      queue_(clock) {
  queue_.setMetricsName(name_);
  metrics::initController(name_);
}

bool Controller::processNext(std::chrono::milliseconds max_wait) {
  auto key = queue_.get(max_wait);
  if (!key) return false;
  ++stats_.reconciles;
  // Every line logged during this reconcile says which controller, object and attempt it is.
  static std::atomic<uint64_t> reconcile_sequence{0};
  char reconcile_id[24];
  std::snprintf(reconcile_id, sizeof reconcile_id, "%016llx",
                static_cast<unsigned long long>(++reconcile_sequence));
  log::ScopedContext context(
      {{"controller", name_}, {"object", key->toString()}, {"reconcileID", reconcile_id}});
  const auto started = std::chrono::steady_clock::now();
  Expected<Result> result = [&]() -> Expected<Result> {
    try {
      return reconciler_.reconcile(Request{*key});
    } catch (const std::exception& e) {
      // The control plane may fail loudly, but one bad object must not stop the others.
      return Status(ErrorCode::Internal, std::string("reconcile threw: ") + e.what());
    }
  }();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics::recordReconcile(name_,
                           !result                             ? "error"
                           : result->requeue_after.count() > 0 ? "requeue"
                                                               : "success",
                           seconds);
  if (!result) {
    ++stats_.errors;
    const Status& error = result.error();
    if (error.terminal()) {
      queue_.forget(*key);
      log::warn("reconcile failed (terminal)", {{"error", error.toString()}});
    } else {
      log::info(
          "reconcile failed, retrying",
          {{"error", error.toString()}, {"failures", std::to_string(queue_.failures(*key) + 1)}});
      queue_.addRateLimited(*key);
    }
  } else {
    queue_.forget(*key);
    if (result->requeue_after.count() > 0) {
      ++stats_.requeues;
      queue_.addAfter(*key, result->requeue_after);
    }
  }
  queue_.done(*key);
  return true;
}

void Controller::run(CancelSource& cancel) {
  queue_.resume();
  if (on_start_) on_start_(queue_);
  CancelRegistration stop_queue(cancel, [this] { queue_.shutdown(); });
  std::vector<std::thread> threads;
  for (int i = 0; i < workers_; ++i) {
    threads.emplace_back([this] {
      while (!queue_.shuttingDown()) processNext(std::chrono::milliseconds(1000));
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace portico::runtime
