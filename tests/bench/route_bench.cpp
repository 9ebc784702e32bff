// Route compilation and lookup at scale (a benchmark program, not a test): N Ingresses of
// 2 paths each over N/10 Services, compiled, encoded into a snapshot, and looked up.
// Prints: ingresses, compile ms, snapshot bytes, decode ms, lookup ns (hit and miss), RSS.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "controllers/routes/compile.h"
#include "operator/proxy/snapshot_codec.h"
#include "operator/proxy/snapshot_writer.h"

using namespace portico;
using Clock = std::chrono::steady_clock;

namespace {

controllers::routes::RouteInputs makeInputs(int n) {
  controllers::routes::RouteInputs in;
  in.now = std::chrono::system_clock::now();
  int services = std::max(1, n / 10);
  for (int s = 0; s < services; ++s) {
    auto svc = std::make_shared<crds::Service>();
    svc->metadata.namespace_ = "ns" + std::to_string(s % 50);
    svc->metadata.name = "svc" + std::to_string(s);
    svc->ports.push_back({"http", 80, "TCP", 8080, ""});
    in.services.push_back(svc);
    auto slice = std::make_shared<crds::EndpointSlice>();
    slice->metadata.namespace_ = svc->metadata.namespace_;
    slice->metadata.name = svc->metadata.name + "-x";
    slice->metadata.labels[crds::kServiceNameLabel] = svc->metadata.name;
    slice->ports.push_back({"http", 8080, "TCP"});
    for (int e = 0; e < 3; ++e)
      slice->endpoints.push_back({{"10." + std::to_string(s / 250) + "." + std::to_string(s % 250) +
                                   "." + std::to_string(e + 1)},
                                  true,
                                  true,
                                  false});
    in.endpoint_slices.push_back(slice);
  }
  for (int i = 0; i < n; ++i) {
    auto ing = std::make_shared<crds::Ingress>();
    int s = i % services;
    ing->metadata.namespace_ = "ns" + std::to_string(s % 50);
    ing->metadata.name = "ing" + std::to_string(i);
    ing->metadata.creation_timestamp = "2026-01-01T00:00:00Z";
    crds::IngressRule rule;
    rule.host = "host" + std::to_string(i) + ".example.com";
    crds::IngressBackend backend;
    backend.service = crds::IngressServiceBackend{"svc" + std::to_string(s), {"", 80}};
    rule.paths.push_back({"/", crds::PathType::Prefix, backend});
    rule.paths.push_back({"/api/v1/items", crds::PathType::Prefix, backend});
    ing->spec.rules.push_back(rule);
    in.ingresses.push_back(ing);
  }
  return in;
}

long rssKiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  // route_bench --snapshot PATH N: write a snapshot of N Ingresses for a proxy RSS measurement.
  if (argc == 4 && std::string(argv[1]) == "--snapshot") {
    auto compiled = controllers::routes::compileRoutes(makeInputs(std::atoi(argv[3])));
    auto writer = proxy::SnapshotWriter::create(argv[2]);
    if (!writer || !(*writer)->publish(compiled.table)) return 1;
    return 0;
  }
  std::vector<int> sizes = {10, 1000, 10000, 50000};
  if (argc > 1) sizes = {std::atoi(argv[1])};
  std::printf("%10s %12s %14s %12s %14s %15s %10s\n", "ingresses", "compile_ms", "snapshot_bytes",
              "decode_ms", "lookup_hit_ns", "lookup_miss_ns", "maxrss_MiB");
  for (int n : sizes) {
    auto inputs = makeInputs(n);
    auto t0 = Clock::now();
    auto compiled = controllers::routes::compileRoutes(inputs);
    auto t1 = Clock::now();
    std::string payload = proxy::snapshot::encode(compiled.table);
    auto t2 = Clock::now();
    auto decoded = proxy::snapshot::decode(payload);
    auto t3 = Clock::now();
    if (!decoded) return 1;
    const auto& table = *decoded;
    std::mt19937 rng(42);
    std::vector<std::string> hosts;
    for (int i = 0; i < 1024; ++i)
      hosts.push_back("host" + std::to_string(rng() % n) + ".example.com");
    const int lookups = 2000000;
    size_t found = 0;
    auto l0 = Clock::now();
    for (int i = 0; i < lookups; ++i)
      found += table.match(hosts[i & 1023], "/api/v1/items/42/details").found();
    auto l1 = Clock::now();
    for (int i = 0; i < lookups; ++i) found += table.match("unknown.example.org", "/x/y").found();
    auto l2 = Clock::now();
    if (found != static_cast<size_t>(lookups)) return 2;
    auto ms = [](auto a, auto b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    std::printf("%10d %12.1f %14zu %12.1f %14.1f %15.1f %10.1f\n", n, ms(t0, t1), payload.size(),
                ms(t2, t3), ms(l0, l1) * 1e6 / lookups, ms(l1, l2) * 1e6 / lookups,
                rssKiB() / 1024.0);
  }
  return 0;
}
