#include "operator/commands/data_plane.h"

#include <optional>
#include <thread>

#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"
#include "operator/proxy/snapshot_reader.h"
#include "operator/proxy/tls_store.h"
#include "operator/proxy/worker.h"

namespace portico::commands {

Status DataPlane::run(CancelSource& stop,
                      const std::function<void(const std::string&)>& on_listening,
                      const CancelSource* hurry) {
  proxy::TableSource tables;
  proxy::TlsStoreBuilder tls_builder(options_.settings.http2);
  proxy::SnapshotReader reader(options_.snapshot_path);

  // Snapshot follower: a new generation is validated, decoded and handed to the workers.
  std::string last_rejection;  // told once per new reason, not on every 10 ms poll
  auto poll = [&] {
    uint64_t rejected = reader.rejected();
    if (auto table = reader.poll()) {
      last_rejection.clear();
      std::vector<std::string> errors;
      auto tls = tls_builder.build(table, &errors);
      for (const auto& error : errors) log::warn("certificate not served", {{"error", error}});
      tables.publish(table, tls);
      generation_ = reader.generation();
      if (on_adopted_) on_adopted_(reader.generation());
      log::info("snapshot adopted", {{"generation", std::to_string(reader.generation())},
                                     {"routes", std::to_string(table->routes().size())}});
    } else if (reader.rejected() != rejected && reader.generation() > 0) {
      rejected_snapshots_.store(reader.rejected(), std::memory_order_relaxed);
      if (reader.lastError().message() != last_rejection) {
        last_rejection = reader.lastError().message();
        log::warn("snapshot rejected, keeping the last good one",
                  {{"error", last_rejection}, {"generation", std::to_string(reader.generation())}});
      }
    }
  };
  int waited = 0;
  while (!tables.load() && !stop.cancelled()) {
    poll();
    if (tables.load()) break;
    if (waited++ % 500 == 0)
      log::info("waiting for a snapshot",
                {{"path", options_.snapshot_path}, {"reason", reader.lastError().message()}});
    stop.sleepFor(std::chrono::milliseconds(10));
  }
  if (stop.cancelled()) return Status::ok();

  auto first = tables.load();
  proxy::ListenerSpec http;
  http.address = options_.http_address.empty() ? first->listeners().address : options_.http_address;
  http.port = options_.http_port >= 0 ? static_cast<uint16_t>(options_.http_port)
                                      : first->listeners().http_port;
  std::optional<proxy::ListenerSpec> https;
  if (options_.https_port != -2) {
    https = proxy::ListenerSpec{http.address, options_.https_port >= 0
                                                  ? static_cast<uint16_t>(options_.https_port)
                                                  : first->listeners().https_port};
  }
  int workers = options_.workers > 0
                    ? options_.workers
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  proxy::ProxyServer server(options_.settings, tables, options_.explicit_settings);
  if (Status st = server.start(http, https, workers); !st) return st;
  {
    MutexLock lock(server_mutex_);
    server_ = &server;
  }
  serving_ = true;
  std::string listening = "http://" + http.address + ":" + std::to_string(server.httpPort());
  if (https) listening += " and https://" + http.address + ":" + std::to_string(server.httpsPort());
  log::info("proxy listening", {{"on", listening},
                                {"workers", std::to_string(workers)},
                                {"openFileLimit", std::to_string(server.openFileLimit())}});
  if (on_listening) on_listening(listening + " with " + std::to_string(workers) + " workers");
  bool told_listener_change = false;
  while (stop.sleepFor(std::chrono::milliseconds(10))) {
    poll();
    const auto& now = tables.load()->listeners();
    if (!told_listener_change && !(now == first->listeners())) {
      told_listener_change = true;
      log::warn("the snapshot names other listeners; they apply when the proxy restarts",
                {{"serving", listening}});
    }
  }
  serving_ = false;  // /readyz fails from now on
  drain(server, hurry);
  {
    MutexLock lock(server_mutex_);
    server_ = nullptr;
  }
  server.stop();
  return Status::ok();
}

void DataPlane::drain(proxy::ProxyServer& server, const CancelSource* hurry) {
  using Clock = std::chrono::steady_clock;
  const auto stopped_at = Clock::now();
  server.drain();
  log::info("draining", {{"connections", std::to_string(server.activeConnections())},
                         {"acceptingFor", std::to_string(options_.shutdown_delay.count()) + "ms"},
                         {"grace", std::to_string(options_.shutdown_grace.count()) + "ms"}});
  auto hurried = [hurry] { return hurry && hurry->cancelled(); };
  while (!hurried() && Clock::now() - stopped_at < options_.shutdown_delay)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server.stopAccepting();
  while (!hurried() && server.activeConnections() > 0 &&
         Clock::now() - stopped_at < options_.shutdown_grace)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  log::info("drained", {{"connectionsCut", std::to_string(server.activeConnections())}});
}

void DataPlane::visitStats(const std::function<void(const proxy::ProxyStats&)>& visit) {
  MutexLock lock(server_mutex_);
  if (!server_) return;
  server_->pruneStats();  // a deleted Ingress's series leave /metrics at the next scrape
  for (const proxy::ProxyStats* stats : server_->stats()) visit(*stats);
}

}  // namespace portico::commands
