// The Kubernetes rules for object names and namespaces (IETF RFC 1123 as the API server applies
// them: k8s.io/apimachinery/pkg/util/validation). Every way an object reaches Portico without
// an API server in front (`portico local` manifests, the state directory) checks names with
// these, so a name can never become a path outside a directory ("../x" is no DNS subdomain).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "operator/base/object_key.h"

namespace portico {

// DNS-1123 label: at most 63 of [a-z0-9-], starting and ending alphanumeric (namespaces).
bool isDnsLabel(std::string_view name);
// DNS-1123 subdomain: at most 253 characters, dot-separated labels of [a-z0-9-] starting and
// ending alphanumeric (the names of most kinds: Secrets, Ingresses, Events, ...).
bool isDnsSubdomain(std::string_view name);
// Why `key` is no valid object key (namespace a label or empty for cluster-scoped objects, name
// a subdomain), or nullopt when it is.
std::optional<std::string> invalidObjectKey(const ObjectKey& key, bool namespaced);

}  // namespace portico
