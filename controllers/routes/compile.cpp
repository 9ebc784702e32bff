#include "controllers/routes/compile.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "operator/base/pem.h"

namespace portico::controllers::routes {

const char* problemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::Conflict: return "Conflict";
    case ProblemKind::ServiceNotFound: return "ServiceNotFound";
    case ProblemKind::PortNotFound: return "PortNotFound";
    case ProblemKind::NoReadyEndpoints: return "NoReadyEndpoints";
    case ProblemKind::UnsupportedBackend: return "UnsupportedBackend";
    case ProblemKind::InvalidHost: return "InvalidHost";
    case ProblemKind::InvalidPath: return "InvalidPath";
    case ProblemKind::InvalidAnnotation: return "InvalidAnnotation";
    case ProblemKind::TlsSecretNotFound: return "TLSSecretNotFound";
    case ProblemKind::InvalidTlsSecret: return "InvalidTLSSecret";
    case ProblemKind::TlsHostNotCovered: return "TLSHostNotCovered";
  }
  return "Unknown";
}

namespace {

using crds::Ingress;

// Deterministic precedence among Ingresses: oldest creationTimestamp, then namespace/name.
// RFC 3339 timestamps in UTC ("...Z", as the API server writes them) sort as strings.
bool olderFirst(const std::shared_ptr<const Ingress>& a, const std::shared_ptr<const Ingress>& b) {
  const auto& ma = a->metadata;
  const auto& mb = b->metadata;
  return std::tie(ma.creation_timestamp, ma.namespace_, ma.name) <
         std::tie(mb.creation_timestamp, mb.namespace_, mb.name);
}

// A rule host: a DNS name, or "*." + a DNS name (the wildcard is one whole left-most label).
bool validRuleHost(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  std::string_view rest = host;
  if (rest.size() > 2 && rest[0] == '*' && rest[1] == '.') rest.remove_prefix(2);
  if (rest.empty() || rest.front() == '.' || rest.back() == '.') return false;
  size_t label = 0;
  for (char c : rest) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    if (++label > 63) return false;
  }
  return true;
}

class Compiler {
public:
  explicit Compiler(const RouteInputs& inputs) : in_(inputs) {
    for (const auto& s : in_.services) services_[s->metadata.key()] = s.get();
    for (const auto& s : in_.secrets) secrets_[s->metadata.key()] = s.get();
    for (const auto& slice : in_.endpoint_slices)
      slices_[{slice->metadata.namespace_, slice->serviceName()}].push_back(slice.get());
    ingresses_ = in_.ingresses;
    std::sort(ingresses_.begin(), ingresses_.end(), olderFirst);
  }

  CompiledRoutes run() {
    compileCertificates();
    compileRules();
    compileDefaultBackend();
    CompiledRoutes out;
    out.table = proxy::RouteTable(std::move(backends_), std::move(routes_), default_backend_,
                                  std::move(certificates_), default_certificate_, in_.acme_tokens,
                                  in_.listeners);
    out.problems = std::move(problems_);
    return out;
  }

private:
  void problem(const Ingress* ingress, ProblemKind kind, std::string message, std::string host = "",
               std::string path = "") {
    problems_.push_back({ingress ? ingress->metadata.key() : ObjectKey{}, kind, std::move(message),
                         std::move(host), std::move(path)});
  }

  static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  }

  // "" when the Secret holds a servable pair now, else why not (": ..." or " lacks ...");
  // `names` gets the certificate's DNS names when it is servable.
  std::string validTlsSecret(const crds::Secret& secret,
                             std::vector<std::string>* names = nullptr) const {
    if (!secret.decode_error.empty()) return " cannot be decoded: " + secret.decode_error;
    const std::string* crt = secret.find("tls.crt");
    const std::string* pkey = secret.find("tls.key");
    if (!crt || !pkey) return " lacks tls.crt or tls.key";
    auto info = checkTlsPair(*crt, *pkey, in_.now);
    if (!info) return ": " + info.error().message();
    if (names) *names = info->dns_names;
    return "";
  }

  // A validated certificate index for a TLS Secret, or -1 with the reason reported.
  int32_t certificateIndex(const Ingress* ingress, const ObjectKey& key) {
    if (auto it = certificate_index_.find(key); it != certificate_index_.end()) return it->second;
    int32_t index = -1;
    auto secret_it = secrets_.find(key);
    if (secret_it == secrets_.end()) {
      problem(ingress, ProblemKind::TlsSecretNotFound,
              "TLS Secret " + key.toString() + " not found");
    } else {
      std::vector<std::string> names;
      std::string why = validTlsSecret(*secret_it->second, &names);
      const crds::Secret* serving = why.empty() ? secret_it->second : nullptr;
      if (!why.empty()) {
        auto last = in_.last_good_secrets.find(key);
        if (last != in_.last_good_secrets.end() && validTlsSecret(*last->second, &names).empty()) {
          serving = last->second.get();
          why += "; the last valid certificate stays in service";
        }
        problem(ingress, ProblemKind::InvalidTlsSecret, "TLS Secret " + key.toString() + why);
      }
      if (serving) {
        index = static_cast<int32_t>(certificates_.size());
        certificates_.push_back(
            {{}, *serving->find("tls.crt"), *serving->find("tls.key"), key.toString()});
        certificate_dns_names_.push_back(std::move(names));
      }
    }
    certificate_index_[key] = index;
    return index;
  }

  void compileCertificates() {
    if (in_.default_certificate)
      default_certificate_ = certificateIndex(nullptr, *in_.default_certificate);
    for (const auto& ingress : ingresses_) {
      for (const auto& tls : ingress->spec.tls) {
        if (tls.secret_name.empty()) continue;  // hosts fall back to the default certificate
        int32_t index =
            certificateIndex(ingress.get(), {ingress->metadata.namespace_, tls.secret_name});
        if (index < 0) continue;
        // No hosts: the entry covers every host of this Ingress's rules.
        std::vector<std::string> hosts = tls.hosts;
        if (hosts.empty())
          for (const auto& rule : ingress->spec.rules)
            if (!rule.host.empty()) hosts.push_back(rule.host);
        for (auto host : hosts) {
          host = lower(host);
          auto [it, inserted] = tls_host_owner_.emplace(host, ingress.get());
          if (!inserted) {
            if (it->second != ingress.get() || sni_index_[host] != index)
              problem(ingress.get(), ProblemKind::Conflict,
                      "TLS host " + host + " is already served by the certificate of Ingress " +
                          it->second->metadata.key().toString(),
                      host);
            continue;
          }
          sni_index_[host] = index;
          certificates_[index].names.push_back(host);
          warnIfNotCovered(ingress.get(), index, host);
        }
      }
    }
  }

  // Served all the same (as ingress-nginx does), but clients will see a name mismatch: say so.
  void warnIfNotCovered(const Ingress* ingress, int32_t index, const std::string& host) {
    const auto& names = certificate_dns_names_[static_cast<size_t>(index)];
    for (const auto& name : names)
      if (nameCoversHost(name, host)) return;
    std::string listed;
    for (const auto& name : names) listed += (listed.empty() ? "" : ", ") + name;
    problem(ingress, ProblemKind::TlsHostNotCovered,
            "the certificate of TLS Secret " + certificates_[static_cast<size_t>(index)].source +
                " does not cover host " + host + " (its names: " +
                (listed.empty() ? "none" : listed) + "); clients will reject it for that host",
            host);
  }

  // The backend for an Ingress backend reference, shared by every route that names it.
  std::optional<uint32_t> backendIndex(const Ingress& ingress, const crds::IngressBackend& ref,
                                       const std::string& host, const std::string& path) {
    if (!ref.service) {
      problem(&ingress, ProblemKind::UnsupportedBackend,
              "resource backends are not supported; use a Service backend", host, path);
      return std::nullopt;
    }
    const auto& svc_ref = *ref.service;
    std::string port_text =
        svc_ref.port.name.empty() ? std::to_string(svc_ref.port.number) : svc_ref.port.name;
    std::string name = ingress.metadata.namespace_ + "/" + svc_ref.name + ":" + port_text;
    if (auto it = backend_index_.find(name); it != backend_index_.end()) return it->second;

    proxy::Backend backend;
    backend.name = name;
    auto svc_it = services_.find({ingress.metadata.namespace_, svc_ref.name});
    if (svc_it == services_.end()) {
      backend.problem =
          "Service " + ingress.metadata.namespace_ + "/" + svc_ref.name + " not found";
      problem(&ingress, ProblemKind::ServiceNotFound, backend.problem, host, path);
    } else {
      const crds::Service& svc = *svc_it->second;
      const crds::ServicePort* port = svc_ref.port.name.empty()
                                          ? svc.portByNumber(svc_ref.port.number)
                                          : svc.portByName(svc_ref.port.name);
      if (!port) {
        backend.problem = "Service " + svc.metadata.key().toString() + " has no port " + port_text;
        problem(&ingress, ProblemKind::PortNotFound, backend.problem, host, path);
      } else {
        resolveEndpoints(svc, *port, backend);
        if (backend.endpoints.empty()) {
          if (backend.problem.empty())
            backend.problem =
                "Service " + svc.metadata.key().toString() + " has no ready endpoints";
          problem(&ingress, ProblemKind::NoReadyEndpoints, backend.problem, host, path);
        }
      }
    }
    uint32_t index = static_cast<uint32_t>(backends_.size());
    backends_.push_back(std::move(backend));
    backend_index_[name] = index;
    return index;
  }

  // Ready endpoints of the EndpointSlices of `svc` for `port` (matched by the port's name).
  void resolveEndpoints(const crds::Service& svc, const crds::ServicePort& port,
                        proxy::Backend& out) {
    auto slices = slices_.find(svc.metadata.key());
    if (slices == slices_.end()) {
      out.problem = "Service " + svc.metadata.key().toString() + " has no EndpointSlices";
      return;
    }
    std::set<std::pair<std::string, uint16_t>> seen;
    for (const crds::EndpointSlice* slice : slices->second) {
      if (slice->address_type != "IPv4" && slice->address_type != "IPv6") continue;
      const crds::EndpointPort* slice_port = nullptr;
      for (const auto& p : slice->ports)
        if (p.name == port.name) slice_port = &p;
      if (!slice_port || slice_port->port <= 0 || slice_port->port > 65535) continue;
      for (const auto& endpoint : slice->endpoints) {
        if (!endpoint.ready) continue;
        for (const auto& address : endpoint.addresses)
          seen.insert({address, static_cast<uint16_t>(slice_port->port)});
      }
    }
    for (const auto& [address, p] : seen) out.endpoints.push_back({address, p});
  }

  bool sslRedirectFor(const Ingress& ingress) {
    std::string value = ingress.metadata.annotation(kSslRedirectAnnotation);
    if (value.empty()) return in_.ssl_redirect_default;
    if (value == "true") return true;
    if (value == "false") return false;
    problem(&ingress, ProblemKind::InvalidAnnotation,
            std::string(kSslRedirectAnnotation) + " must be \"true\" or \"false\", not \"" + value +
                "\"; using the class default");
    return in_.ssl_redirect_default;
  }

  void compileRules() {
    // (host, match, path) → the Ingress that claimed it first.
    std::map<std::tuple<std::string, proxy::PathMatch, std::string>, const Ingress*> claims;
    for (const auto& ingress_ptr : ingresses_) {
      const Ingress& ingress = *ingress_ptr;
      bool redirect = sslRedirectFor(ingress);
      for (size_t r = 0; r < ingress.spec.rules.size(); ++r) {
        const auto& rule = ingress.spec.rules[r];
        std::string host = lower(rule.host);
        if (!host.empty() && !validRuleHost(host)) {
          problem(&ingress, ProblemKind::InvalidHost,
                  "host \"" + rule.host + "\" is not a DNS name or a \"*.\" wildcard", rule.host);
          continue;
        }
        for (size_t p = 0; p < rule.paths.size(); ++p) {
          const auto& path = rule.paths[p];
          proxy::PathMatch match = path.path_type == crds::PathType::Exact
                                       ? proxy::PathMatch::Exact
                                       : proxy::PathMatch::Prefix;
          if (!path.path.empty() && path.path.front() != '/') {
            problem(&ingress, ProblemKind::InvalidPath,
                    "path \"" + path.path + "\" must start with /", host, path.path);
            continue;
          }
          if (path.path.empty() && path.path_type != crds::PathType::ImplementationSpecific) {
            problem(&ingress, ProblemKind::InvalidPath,
                    std::string("pathType ") + crds::pathTypeName(path.path_type) + " needs a path",
                    host);
            continue;
          }
          std::optional<std::string> rule_path = proxy::normalizeRulePath(path.path, match);
          if (!rule_path) {
            // Never widen a route: "/only%zz" must not become "/" and capture the host.
            problem(&ingress, ProblemKind::InvalidPath,
                    "path \"" + path.path +
                        "\" cannot be normalized (a bad %-escape, NUL, '?' or '#'); rule skipped",
                    host, path.path);
            continue;
          }
          const std::string& normalized = *rule_path;
          auto [claim, inserted] =
              claims.emplace(std::make_tuple(host, match, normalized), &ingress);
          if (!inserted) {
            if (claim->second != &ingress)
              problem(&ingress, ProblemKind::Conflict,
                      std::string(crds::pathTypeName(path.path_type)) + " path " + normalized +
                          " on host " + (host.empty() ? "*" : host) +
                          " is already served by Ingress " +
                          claim->second->metadata.key().toString() + " (older, or first by name)",
                      host, normalized);
            continue;
          }
          auto backend = backendIndex(ingress, path.backend, host, normalized);
          if (!backend) continue;
          proxy::Route route;
          route.host = host;
          route.path = normalized;
          route.match = match;
          route.backend = *backend;
          route.options.ssl_redirect = redirect && !host.empty() && hostHasCertificate(host);
          route.source = ingress.metadata.key().toString() + " rule " + std::to_string(r) +
                         " path " + std::to_string(p);
          routes_.push_back(std::move(route));
        }
      }
    }
  }

  // A certificate names the host itself, or "*." + its parent (one label, RFC 6125 §6.4.3).
  // Two lookups, not a scan: compile time must not grow with routes × certificates.
  bool hostHasCertificate(const std::string& host) const {
    if (sni_index_.count(host)) return true;
    if (host.size() > 2 && host[0] == '*' && host[1] == '.') return sni_index_.count(host) > 0;
    auto dot = host.find('.');
    return dot != std::string::npos && dot > 0 && sni_index_.count("*" + host.substr(dot));
  }

  void compileDefaultBackend() {
    const Ingress* owner = nullptr;
    for (const auto& ingress : ingresses_) {
      if (!ingress->spec.default_backend) continue;
      if (owner) {
        problem(
            ingress.get(), ProblemKind::Conflict,
            "the default backend is already set by Ingress " + owner->metadata.key().toString());
        continue;
      }
      auto index = backendIndex(*ingress, *ingress->spec.default_backend, "", "");
      if (!index) continue;
      owner = ingress.get();
      default_backend_ = static_cast<int32_t>(*index);
    }
  }

  const RouteInputs& in_;
  std::vector<std::shared_ptr<const Ingress>> ingresses_;
  std::map<ObjectKey, const crds::Service*> services_;
  std::map<ObjectKey, const crds::Secret*> secrets_;
  std::map<ObjectKey, std::vector<const crds::EndpointSlice*>> slices_;

  std::vector<proxy::Backend> backends_;
  std::map<std::string, uint32_t> backend_index_;
  std::vector<proxy::Route> routes_;
  int32_t default_backend_ = -1;
  std::vector<proxy::TlsCertificate> certificates_;
  std::map<ObjectKey, int32_t> certificate_index_;
  std::vector<std::vector<std::string>> certificate_dns_names_;  // by certificate index
  std::map<std::string, const Ingress*> tls_host_owner_;
  std::map<std::string, int32_t> sni_index_;
  int32_t default_certificate_ = -1;
  std::vector<RouteProblem> problems_;
};

}  // namespace

CompiledRoutes compileRoutes(const RouteInputs& inputs) {
  return Compiler(inputs).run();
}

}  // namespace portico::controllers::routes
