#include "operator/commands/proxy_command.h"

#include <iostream>
#include <thread>

#include "operator/base/log.h"
#include "operator/proxy/snapshot_reader.h"
#include "operator/proxy/worker.h"
#include "operator/runtime/manager.h"

namespace portico::commands {

int runProxy(const ProxyFlags& flags) {
  CancelSource stop;
  auto signals = runtime::watchTerminationSignals(stop);
  proxy::TableSource tables;
  proxy::SnapshotReader reader(flags.snapshot_path);

  // Snapshot follower: a new generation is validated, decoded and handed to the workers.
  auto poll = [&] {
    uint64_t rejected = reader.rejected();
    if (auto table = reader.poll()) {
      tables.publish(table);
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
  int workers = flags.workers > 0
                    ? flags.workers
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  proxy::ProxyServer server(flags.settings, tables);
  if (Status st = server.start(http, workers); !st) {
    std::cerr << "portico: " << st.message() << "\n";
    stop.cancel();
    signals.join();
    return 1;
  }
  std::cout << "listening on http://" << http.address << ":" << server.httpPort() << " with "
            << workers << " workers" << std::endl;
  while (stop.sleepFor(std::chrono::milliseconds(10))) poll();
  server.stop();
  signals.join();
  return 0;
}

}  // namespace portico::commands
