#include "operator/commands/snapshot_commands.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <map>

#include "operator/base/pem.h"
#include "operator/commands/offline_inputs.h"
#include "operator/proxy/snapshot_reader.h"
#include "operator/proxy/snapshot_writer.h"

namespace portico::commands {

namespace {

using nlohmann::json;
namespace routes = controllers::routes;

// The Secrets `portico local` wrote to its state directory (issued certificates): read only, as
// the running instance may be writing next to them.
Status appendStateSecrets(const std::string& state_dir, std::vector<local::ManifestObject>& out) {
  const std::filesystem::path secrets = std::filesystem::path(state_dir) / "secrets.core";
  std::error_code ec;
  if (!std::filesystem::is_directory(secrets, ec)) return Status::ok();
  for (const auto& entry : std::filesystem::recursive_directory_iterator(secrets, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    auto objects = local::loadManifestFile(entry.path().string());
    if (!objects) return objects.error();
    for (auto& object : *objects) out.push_back(std::move(object));
  }
  return Status::ok();
}

Expected<routes::CompiledRoutes> compileDir(
    const std::string& dir, OfflineInputs* inputs_out = nullptr,
    const std::map<std::string, std::string>& acme_tokens = {}, const std::string& state_dir = "") {
  auto objects = local::loadManifestDir(dir);
  if (!objects) return objects.error();
  if (!state_dir.empty())
    if (Status st = appendStateSecrets(state_dir, *objects); !st) return st;
  auto inputs = inputsFromManifests(*objects, std::chrono::system_clock::now());
  if (!inputs) return inputs.error();
  inputs->inputs.acme_tokens = acme_tokens;
  auto compiled = routes::compileRoutes(inputs->inputs);
  if (inputs_out) *inputs_out = std::move(*inputs);
  return compiled;
}

void printProblems(const std::vector<routes::RouteProblem>& problems) {
  for (const auto& p : problems)
    std::cerr << "warning: "
              << (p.ingress.name.empty() ? std::string("class") : "Ingress " + p.ingress.toString())
              << ": " << routes::problemKindName(p.kind) << ": " << p.message << "\n";
}

json tableToJson(const proxy::RouteTable& table, uint64_t generation) {
  json out;
  out["generation"] = generation;
  const proxy::Listeners& listeners = table.listeners();
  out["listeners"] = {{"address", listeners.address},  {"http", listeners.http_port},
                      {"https", listeners.https_port}, {"tlsMinVersion", listeners.tls_min_version},
                      {"hsts", listeners.hsts},        {"http2", listeners.http2}};
  if (listeners.proxy.present)
    out["proxy"] = {{"headerTimeoutSeconds", listeners.proxy.header_timeout_seconds},
                    {"idleTimeoutSeconds", listeners.proxy.idle_timeout_seconds},
                    {"connectTimeoutSeconds", listeners.proxy.connect_timeout_seconds},
                    {"upstreamTimeoutSeconds", listeners.proxy.upstream_timeout_seconds},
                    {"maxHeaderBytes", listeners.proxy.max_head_bytes},
                    {"maxBodyBytes", listeners.proxy.max_body_bytes},
                    {"accessLog", listeners.proxy.access_log},
                    {"serverHeader", listeners.proxy.server_header}};
  out["backends"] = json::array();
  for (const auto& b : table.backends()) {
    json endpoints = json::array();
    for (const auto& e : b.endpoints) endpoints.push_back(e.address + ":" + std::to_string(e.port));
    json backend = {{"name", b.name}, {"endpoints", endpoints}};
    if (!b.problem.empty()) backend["problem"] = b.problem;
    out["backends"].push_back(backend);
  }
  out["routes"] = json::array();
  for (const auto& r : table.routes())
    out["routes"].push_back({{"host", r.host.empty() ? "*" : r.host},
                             {"path", r.path},
                             {"match", r.match == proxy::PathMatch::Exact ? "Exact" : "Prefix"},
                             {"backend", table.backends()[r.backend].name},
                             {"sslRedirect", r.options.ssl_redirect},
                             {"source", r.source}});
  if (table.defaultBackend() >= 0)
    out["defaultBackend"] = table.backends()[table.defaultBackend()].name;
  out["certificates"] = json::array();
  for (const auto& c : table.certificates()) {
    json cert = {{"names", c.names}, {"source", c.source}, {"privateKey", "<redacted>"}};
    if (auto leaf = parseCertificate(c.cert_chain_pem)) {
      auto info = inspectCertificate(leaf->get());
      cert["dnsNames"] = info.dns_names;
      cert["serial"] = info.serial_hex;
    }
    out["certificates"].push_back(cert);
  }
  if (table.defaultCertificate() >= 0)
    out["defaultCertificate"] = table.certificates()[table.defaultCertificate()].source;
  json tokens = json::array();
  for (const auto& [token, key_authorization] : table.acmeTokens()) tokens.push_back(token);
  out["acmeTokens"] = tokens;
  return out;
}

}  // namespace

int runSnapshotCompile(const std::string& manifests_dir, const std::string& out_path,
                       const std::vector<std::string>& acme_tokens) {
  // TOKEN=KEY_AUTHORIZATION pairs, as the certificate controller publishes pending HTTP-01
  // challenges (RFC 8555 §8.3); here for testing a proxy without a cluster.
  std::map<std::string, std::string> tokens;
  for (const auto& pair : acme_tokens) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "portico: --acme-token must be TOKEN=KEY_AUTHORIZATION\n";
      return 2;
    }
    tokens[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  OfflineInputs inputs;
  auto compiled = compileDir(manifests_dir, &inputs, tokens);
  if (!compiled) {
    std::cerr << "portico: " << compiled.error().message() << "\n";
    return 1;
  }
  printProblems(compiled->problems);
  for (const auto& key : inputs.other_classes)
    std::cerr << "ignored: Ingress " << key.toString()
              << " belongs to another controller's class\n";
  auto writer = proxy::SnapshotWriter::create(out_path);
  if (!writer) {
    std::cerr << "portico: " << writer.error().message() << "\n";
    return 1;
  }
  auto generation = (*writer)->publish(compiled->table);
  if (!generation) {
    std::cerr << "portico: " << generation.error().message() << "\n";
    return 1;
  }
  std::cout << "wrote " << out_path << ": " << compiled->table.routes().size() << " routes, "
            << compiled->table.backends().size() << " backends, "
            << compiled->table.certificates().size() << " certificates, "
            << compiled->problems.size() << " problems\n";
  return 0;
}

int runSnapshotDump(const std::string& snapshot_path) {
  proxy::SnapshotReader reader(snapshot_path);
  auto table = reader.poll();
  if (!table) {
    std::cerr << "portico: "
              << (reader.lastError().isOk() ? "no snapshot published yet"
                                            : reader.lastError().message())
              << "\n";
    return 1;
  }
  std::cout << tableToJson(*table, reader.generation()).dump(2) << "\n";
  return 0;
}

int runExplain(const std::string& manifests_dir, const std::string& state_dir,
               const std::string& host, const std::string& path) {
  OfflineInputs inputs;
  auto compiled = compileDir(manifests_dir, &inputs, {}, state_dir);
  if (!compiled) {
    std::cerr << "portico: " << compiled.error().message() << "\n";
    return 1;
  }
  const auto& table = compiled->table;
  std::string h, p;
  if (!proxy::normalizeHost(host, h)) {
    std::cout << "Host \"" << host << "\" is not a valid host name: the proxy answers 400.\n";
    return 0;
  }
  if (!proxy::normalizePath(path, p)) {
    std::cout << "Path \"" << path << "\" is not a valid request path: the proxy answers 400.\n";
    return 0;
  }
  std::cout << "Request: host " << h << ", path " << p << " (IngressClass "
            << (inputs.ingress_class.empty() ? std::string("<none of ours>") : inputs.ingress_class)
            << ")\n";
  if (p.rfind("/.well-known/acme-challenge/", 0) == 0)
    std::cout << "ACME HTTP-01 challenge path: answered by the proxy itself, ahead of redirects "
                 "and routing.\n";
  auto result = table.match(h, p);
  if (result.route) {
    const auto& r = *result.route;
    std::cout << "Served by: " << r.source << " — "
              << (r.match == proxy::PathMatch::Exact ? "Exact " : "Prefix ") << r.path
              << " on host " << (r.host.empty() ? "*" : r.host) << "\n";
  } else if (result.backend) {
    std::cout << "Served by: the default backend (no rule matches)\n";
  } else {
    std::cout
        << "Served by: nothing — 404 (no rule matches and no Ingress sets a default backend)\n";
  }
  if (result.backend) {
    const auto& b = *result.backend;
    std::cout << "Backend: " << b.name << ", " << b.endpoints.size() << " ready endpoint(s)";
    for (const auto& e : b.endpoints) std::cout << " " << e.address << ":" << e.port;
    std::cout << "\n";
    if (b.endpoints.empty()) std::cout << "  → 503: " << b.problem << "\n";
  }
  int32_t cert = table.certificateFor(h);
  if (cert >= 0) {
    std::cout << "TLS: certificate from Secret " << table.certificates()[cert].source
              << (table.hasCertificateFor(h) ? "" : " (the default certificate)") << "\n";
    if (result.route && result.route->options.ssl_redirect)
      std::cout << "HTTP: answered with 308 to https://" << h << p << "\n";
  } else {
    std::cout << "TLS: no certificate for this host (HTTPS handshakes fail)\n";
  }
  bool header = false;
  for (const auto& problem : compiled->problems) {
    bool same_host =
        problem.host.empty() || problem.host == h ||
        (problem.host.size() > 2 && problem.host[0] == '*' && nameCoversHost(problem.host, h));
    // A rule path that could have matched this request (element-wise prefix).
    const std::string& rp = problem.path;
    bool same_path = rp.empty() || rp == "/" || p == rp || p.rfind(rp + "/", 0) == 0;
    if (!same_host || !same_path) continue;
    if (!header) std::cout << "Rules for this request that lost or cannot be served:\n";
    header = true;
    std::cout << "  Ingress " << problem.ingress.toString() << ": "
              << routes::problemKindName(problem.kind) << ": " << problem.message << "\n";
  }
  return 0;
}

}  // namespace portico::commands
