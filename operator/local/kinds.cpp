#include "operator/local/kinds.h"

#include <algorithm>
#include <cctype>

#include "operator/kube/client.h"
#include "operator/local/manifests.h"

namespace portico::local {

namespace {
std::string plural(std::string kind) {
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (kind.ends_with("s")) return kind + "es";  // ingress → ingresses, ingressclass → ...classes
  if (kind.ends_with("y")) return kind.substr(0, kind.size() - 1) + "ies";  // policy → policies
  return kind + "s";
}
}  // namespace

Expected<kube::Resource> resourceFor(const std::string& api_version, const std::string& kind) {
  if (kind.empty() || api_version.empty())
    return Status(ErrorCode::InvalidArgument, "apiVersion and kind are required");
  std::string group, version = api_version;
  if (auto slash = api_version.find('/'); slash != std::string::npos) {
    group = api_version.substr(0, slash);
    version = api_version.substr(slash + 1);
  }
  if (group == "discovery.k8s.io" && kind == "EndpointSlice") version = "v1";
  if (group == "networking.k8s.io" && kind == "Ingress" && version != "v1")
    return Status(ErrorCode::InvalidArgument,
                  "Ingress " + api_version + " is not served; use networking.k8s.io/v1");
  return kube::Resource{group, version, plural(kind), !isClusterScopedKind(kind)};
}

std::vector<kube::GroupVersion> localGroupVersions() {
  return {{"", "v1"},
          {"networking.k8s.io", "v1"},
          {"discovery.k8s.io", "v1"},
          {"coordination.k8s.io", "v1"},
          {"portico.io", "v1alpha1"}};
}

}  // namespace portico::local
