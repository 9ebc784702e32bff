// RoutePublisher: turns "something changed" into a published snapshot, debounced with a bounded
// delay: after a trigger it waits until `debounce` passes without another trigger, but never
// longer than `max_delay` after the first one, so a storm of watch events costs one compile and
// a single change goes live within milliseconds. An unchanged RouteTable is not written again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "controllers/routes/compile.h"
#include "controllers/selection/selection.h"
#include "operator/base/thread_annotations.h"
#include "operator/proxy/snapshot_writer.h"
#include "operator/runtime/runnable.h"

namespace portico::controllers::routes {

// What one build produced: the compiled routes and what the status writers need to know.
struct BuiltRoutes {
  bool ready = false;  // false: inputs not complete yet (e.g. Secrets being fetched): wait
  CompiledRoutes compiled;
  selection::ServedClass served;
  std::set<ObjectKey> ingresses;  // served Ingresses
  // The class settings in effect (the last valid ones when the current spec is invalid) and
  // the config generation they came from.
  std::optional<crds::IngressClassConfigSpec> applied_spec;
  int64_t applied_config_generation = 0;
};

struct PublishedRoutes {
  uint64_t generation = 0;  // of the snapshot in service
  BuiltRoutes built;
  std::chrono::steady_clock::time_point published_at;
};

struct PublisherOptions {
  std::chrono::milliseconds debounce{5};
  std::chrono::milliseconds max_delay{50};
};

// Where the class's spec.snapshotPath may be written: only a file directly in the directory of
// the operator's own snapshot (`own_path`), given as a bare file name or as an absolute path in
// that directory. Anything else ("/etc/passwd", "../x", "sub/x") is refused with the reason: a
// config must not make the operator replace an arbitrary file with one holding private keys.
Expected<std::string> confinedSnapshotPath(const std::string& requested,
                                           const std::string& own_path);

class RoutePublisher final : public runtime::Runnable {
public:
  using Build = std::function<BuiltRoutes()>;
  using OnPublished = std::function<void(const PublishedRoutes&)>;

  RoutePublisher(Build build, std::unique_ptr<proxy::SnapshotWriter> writer,
                 PublisherOptions options = {});

  // Must be set before run().
  void onPublished(OnPublished callback) { on_published_ = std::move(callback); }

  std::string name() const override { return "route-publisher"; }
  void run(CancelSource& cancel) override;

  // Any input changed. Cheap; callable from any thread.
  void trigger();
  // The newest publication (null before the first).
  std::shared_ptr<const PublishedRoutes> current() const;
  uint64_t compileCount() const { return compiles_.load(); }
  // No change waiting to be compiled and no publication under way.
  bool idle() const;
  // When the earliest change that `generation` carries was observed (for the propagation
  // histogram); nullopt for generations not published here or long gone.
  std::optional<std::chrono::steady_clock::time_point> changeTimeOf(uint64_t generation) const;

private:
  void publishOnce(std::chrono::steady_clock::time_point changed_at);
  // The class's spec.snapshotPath, when it names another file: published there too.
  void publishToConfiguredPath(const BuiltRoutes& built, bool table_changed);
  std::string refused_path_;  // the last spec.snapshotPath refused (logged once)

  Build build_;
  std::unique_ptr<proxy::SnapshotWriter> writer_;
  PublisherOptions options_;
  OnPublished on_published_;

  mutable Mutex mutex_;
  std::condition_variable cv_;
  bool dirty_ GUARDED_BY(mutex_) = false;
  bool publishing_ GUARDED_BY(mutex_) = false;
  std::chrono::steady_clock::time_point first_trigger_ GUARDED_BY(mutex_);
  std::chrono::steady_clock::time_point last_trigger_ GUARDED_BY(mutex_);
  std::shared_ptr<const PublishedRoutes> current_ GUARDED_BY(mutex_);
  std::atomic<uint64_t> compiles_{0};
  std::deque<std::pair<uint64_t, std::chrono::steady_clock::time_point>> change_times_
      GUARDED_BY(mutex_);
  // Touched only by the run() thread (publishOnce):
  // the earliest change not yet in a published snapshot (a build may wait for inputs),
  std::optional<std::chrono::steady_clock::time_point> unpublished_since_;
  // and the second snapshot file the class's spec.snapshotPath names.
  std::string extra_path_;
  std::unique_ptr<proxy::SnapshotWriter> extra_writer_;
};

}  // namespace portico::controllers::routes
