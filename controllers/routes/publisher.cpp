#include "controllers/routes/publisher.h"

#include <filesystem>

#include "operator/base/log.h"
#include "operator/base/metrics.h"
#include "operator/base/thread_annotations.h"

namespace portico::controllers::routes {

RoutePublisher::RoutePublisher(Build build, std::unique_ptr<proxy::SnapshotWriter> writer,
                               PublisherOptions options)
    : build_(std::move(build)), writer_(std::move(writer)), options_(options) {}

void RoutePublisher::trigger() {
  MutexLock lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (!dirty_) first_trigger_ = now;
  last_trigger_ = now;
  dirty_ = true;
  cv_.notify_all();
}

std::shared_ptr<const PublishedRoutes> RoutePublisher::current() const {
  MutexLock lock(mutex_);
  return current_;
}

bool RoutePublisher::idle() const {
  MutexLock lock(mutex_);
  return !dirty_ && !publishing_;
}

void RoutePublisher::run(CancelSource& cancel) {
  CancelRegistration wake(cancel, [this] {
    MutexLock lock(mutex_);
    cv_.notify_all();
  });
  while (!cancel.cancelled()) {
    std::chrono::steady_clock::time_point changed_at;
    {
      MutexLock lock(mutex_);
      while (!dirty_ && !cancel.cancelled()) lock.wait(cv_);
      if (cancel.cancelled()) return;
      // Debounce: quiet for `debounce`, or `max_delay` since the first trigger.
      while (!cancel.cancelled()) {
        auto deadline =
            std::min(last_trigger_ + options_.debounce, first_trigger_ + options_.max_delay);
        if (std::chrono::steady_clock::now() >= deadline) break;
        lock.waitUntil(cv_, deadline);
      }
      dirty_ = false;
      publishing_ = true;
      changed_at = first_trigger_;
    }
    publishOnce(changed_at);  // may enqueue status work before publishing_ drops: see idle()
    MutexLock lock(mutex_);
    publishing_ = false;
  }
}

Expected<std::string> confinedSnapshotPath(const std::string& requested,
                                           const std::string& own_path) {
  namespace fs = std::filesystem;
  const fs::path own_dir = fs::path(own_path).lexically_normal().parent_path();
  const fs::path wanted(requested);
  fs::path file = wanted.filename();
  bool bare_name = !wanted.has_parent_path();
  bool in_own_dir = wanted.is_absolute() && wanted.lexically_normal() == wanted &&
                    wanted.parent_path() == own_dir;
  if (file.empty() || file == "." || file == ".." || (!bare_name && !in_own_dir))
    return Status(ErrorCode::InvalidArgument,
                  "spec.snapshotPath \"" + requested +
                      "\" must be a file name, or a file directly in " + own_dir.string() +
                      " (the directory of the operator's own snapshot)");
  return (own_dir / file).string();
}

void RoutePublisher::publishToConfiguredPath(const BuiltRoutes& built, bool table_changed) {
  std::string path = built.applied_spec ? built.applied_spec->snapshot_path : "";
  if (!path.empty()) {
    auto confined = confinedSnapshotPath(path, writer_->path());
    if (!confined) {
      if (path != refused_path_)
        log::error("spec.snapshotPath refused", {{"error", confined.error().message()}});
      refused_path_ = path;
      path.clear();
    } else {
      path = *confined;
    }
  }
  if (path == writer_->path()) path.clear();
  if (path != extra_path_) {
    extra_writer_.reset();
    extra_path_ = path;
    table_changed = true;  // a new file starts with the current table
    if (!path.empty()) {
      auto writer = proxy::SnapshotWriter::create(path);
      if (!writer) {
        log::error("spec.snapshotPath cannot be written",
                   {{"path", path}, {"error", writer.error().toString()}});
        return;
      }
      extra_writer_ = std::move(*writer);
    }
  }
  if (!extra_writer_ || !table_changed) return;
  if (auto published = extra_writer_->publish(built.compiled.table); !published)
    log::error("snapshot not published to spec.snapshotPath",
               {{"path", path}, {"error", published.error().toString()}});
}

std::optional<std::chrono::steady_clock::time_point> RoutePublisher::changeTimeOf(
    uint64_t generation) const {
  MutexLock lock(mutex_);
  for (const auto& [published, changed_at] : change_times_)
    if (published == generation) return changed_at;
  return std::nullopt;
}

void RoutePublisher::publishOnce(std::chrono::steady_clock::time_point changed_at) {
  if (!unpublished_since_ || changed_at < *unpublished_since_) unpublished_since_ = changed_at;
  BuiltRoutes built = build_();
  ++compiles_;
  if (!built.ready) return;  // the missing input triggers again when it arrives
  auto previous = current();
  uint64_t generation = previous ? previous->generation : 0;
  const bool changed = !previous || !(previous->built.compiled.table == built.compiled.table);
  if (changed) {
    const auto started = std::chrono::steady_clock::now();
    auto published = writer_->publish(built.compiled.table);
    if (!published) {
      log::error("snapshot not published", {{"error", published.error().toString()}});
      return;  // the previous snapshot stays in service; the next change retries
    }
    generation = *published;
    metrics::recordSnapshotPublish(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
        writer_->payloadBytes(), generation);
    {
      MutexLock lock(mutex_);
      change_times_.emplace_back(generation, *unpublished_since_);
      while (change_times_.size() > 64) change_times_.pop_front();
    }
    log::info("snapshot published",
              {{"generation", std::to_string(generation)},
               {"routes", std::to_string(built.compiled.table.routes().size())},
               {"ingresses", std::to_string(built.ingresses.size())},
               {"problems", std::to_string(built.compiled.problems.size())}});
  }
  unpublished_since_.reset();
  publishToConfiguredPath(built, changed);
  auto next = std::make_shared<PublishedRoutes>();
  next->generation = generation;
  next->built = std::move(built);
  next->published_at = std::chrono::steady_clock::now();
  {
    MutexLock lock(mutex_);
    current_ = next;
  }
  if (on_published_) on_published_(*next);
}

}  // namespace portico::controllers::routes
