// Route compilation: Ingresses + Services + EndpointSlices + TLS Secrets → proxy::RouteTable.
// Pure: no client, no clock (the time to check certificates against is passed in). Every rule
// that cannot be served becomes a RouteProblem that names the Ingress and says why, so
// controllers can turn it into an Event and `portico explain` can show it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crds/ingress.h"
#include "crds/secret.h"
#include "crds/service.h"
#include "operator/proxy/route_table.h"

namespace portico::controllers::routes {

struct RouteInputs {
  // Only the Ingresses this controller serves (class selection happens before).
  std::vector<std::shared_ptr<const crds::Ingress>> ingresses;
  std::vector<std::shared_ptr<const crds::Service>> services;
  std::vector<std::shared_ptr<const crds::EndpointSlice>> endpoint_slices;
  std::vector<std::shared_ptr<const crds::Secret>> secrets;
  // The last valid version of each TLS Secret: served (and the problem reported) when the
  // current version is invalid, so a bad write never takes a working certificate away.
  std::map<ObjectKey, std::shared_ptr<const crds::Secret>> last_good_secrets;
  proxy::Listeners listeners;
  std::optional<ObjectKey> default_certificate;  // a kubernetes.io/tls Secret
  bool ssl_redirect_default = true;              // hosts with a certificate redirect HTTP to HTTPS
  std::map<std::string, std::string> acme_tokens;
  std::chrono::system_clock::time_point now;  // certificates are checked against this
};

enum class ProblemKind {
  Conflict,  // another (older) Ingress already claims this host+path, host or default
  ServiceNotFound,
  PortNotFound,
  NoReadyEndpoints,
  UnsupportedBackend,
  InvalidHost,
  InvalidPath,
  InvalidAnnotation,
  TlsSecretNotFound,
  InvalidTlsSecret,
  TlsHostNotCovered,  // served, but the certificate's names do not include the TLS host
};
const char* problemKindName(ProblemKind kind);

struct RouteProblem {
  ObjectKey ingress;  // the Ingress that loses or cannot be served ("" for class-level input)
  ProblemKind kind;
  std::string message;  // for a user: what is wrong and, for conflicts, who won
  std::string host;     // the rule's host and path, when the problem is about one
  std::string path;
};

struct CompiledRoutes {
  proxy::RouteTable table;
  std::vector<RouteProblem> problems;
};

CompiledRoutes compileRoutes(const RouteInputs& inputs);

// The annotation that overrides the class's HTTP→HTTPS redirect default for one Ingress.
inline constexpr const char* kSslRedirectAnnotation = "portico.io/ssl-redirect";

}  // namespace portico::controllers::routes
