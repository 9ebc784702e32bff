#include "operator/commands/proxy_command.h"

#include <iostream>
#include <optional>
#include <thread>

#include "operator/base/log.h"
#include "operator/proxy/snapshot_reader.h"
#include "operator/proxy/tls_store.h"
#include "operator/proxy/worker.h"
#include "operator/runtime/manager.h"

namespace portico::commands {

int runProxy(const ProxyFlags& flags) {
  CancelSource stop;
  auto signals = runtime::watchTerminationSignals(stop);
  proxy::TableSource tables;
  proxy::TlsStoreBuilder tls_builder;
  proxy::SnapshotReader reader(flags.snapshot_path);

  // Snapshot follower: a new generation is validated, decoded and handed to the workers.
  auto poll = [&] {
    uint64_t rejected = reader.rejected();
    if (auto table = reader.poll()) {
      // TLS contexts are built here, off the workers' path, and swapped with the table.
      std::vector<std::string> errors;
      auto tls = tls_builder.build(table, &errors);
      for (const auto& error : errors) log::warn("certificate not served", {{"error", error}});
      tables.publish(table, tls);
      log::info("snapshot adopted", {{"generation", std::to_string(reader.generation())},
                                     {"routes", std::to_string(table->routes().size())}});
    } else if (reader.rejected() != rejected && reader.generation() > 0) {
      log::warn("snapshot rejected, keeping the last good one",
                {{"error", reader.lastError().message()},
                 {"generation", std::to_string(reader.generation())}});
    }
  };
  int waited = 0;
  while (!tables.load() && !stop.cancelled()) {
    poll();
    if (tables.load()) break;
    if (waited++ % 500 == 0)
      log::info("waiting for a snapshot",
                {{"path", flags.snapshot_path}, {"reason", reader.lastError().message()}});
    stop.sleepFor(std::chrono::milliseconds(10));
  }
  if (stop.cancelled()) {
    signals.join();
    return 0;
  }

  auto first = tables.load();
  proxy::ListenerSpec http;
  http.address = flags.http_address.empty() ? first->listeners().address : flags.http_address;
  http.port =
      flags.http_port >= 0 ? static_cast<uint16_t>(flags.http_port) : first->listeners().http_port;
  std::optional<proxy::ListenerSpec> https;
  if (flags.https_port != -2) {  // -2: no TLS listener
    https = proxy::ListenerSpec{http.address, flags.https_port >= 0
                                                  ? static_cast<uint16_t>(flags.https_port)
                                                  : first->listeners().https_port};
  }
  int workers = flags.workers > 0
                    ? flags.workers
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  proxy::ProxyServer server(flags.settings, tables);
  if (Status st = server.start(http, https, workers); !st) {
    std::cerr << "portico: " << st.message() << "\n";
    stop.cancel();
    signals.join();
    return 1;
  }
  std::cout << "listening on http://" << http.address << ":" << server.httpPort();
  if (https) std::cout << " and https://" << http.address << ":" << server.httpsPort();
  std::cout << " with " << workers << " workers" << std::endl;
  while (stop.sleepFor(std::chrono::milliseconds(10))) poll();
  server.stop();
  signals.join();
  return 0;
}

}  // namespace portico::commands
