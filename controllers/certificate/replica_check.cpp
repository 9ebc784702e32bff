#include "controllers/certificate/replica_check.h"

#include <algorithm>

#include "acme/http01.h"

namespace portico::controllers::certificate {

std::vector<std::string> replicaAddresses(
    const std::vector<std::shared_ptr<const crds::EndpointSlice>>& slices, const ObjectKey& service,
    const std::string& port_name) {
  std::vector<std::string> out;
  for (const auto& slice : slices) {
    if (slice->metadata.namespace_ != service.namespace_ || slice->serviceName() != service.name)
      continue;
    if (slice->address_type != "IPv4" && slice->address_type != "IPv6") continue;
    const auto port =
        std::find_if(slice->ports.begin(), slice->ports.end(),
                     [&](const crds::EndpointPort& p) { return p.name == port_name; });
    if (port == slice->ports.end() || port->port <= 0) continue;
    const bool v6 = slice->address_type == "IPv6";
    for (const auto& endpoint : slice->endpoints) {
      // Only ready endpoints get traffic from the load balancer, so only they can get the CA's.
      if (!endpoint.ready) continue;
      for (const auto& address : endpoint.addresses)
        out.push_back((v6 ? "[" + address + "]" : address) + ":" + std::to_string(port->port));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

bool answers(HttpTransport& transport, const std::string& replica,
             const crds::PendingChallenge& challenge, std::chrono::milliseconds timeout) {
  HttpRequest request;
  request.url = "http://" + replica + acme::kChallengePathPrefix + challenge.token;
  // Asked by address: the proxy answers challenge tokens for any Host, ahead of routing.
  request.timeout = timeout;
  auto response = transport.send(request);
  return response && response->status == 200 && response->body == challenge.key_authorization;
}

}  // namespace

std::vector<std::string> replicasNotServing(HttpTransport& transport,
                                            const std::vector<std::string>& replicas,
                                            const std::vector<crds::PendingChallenge>& challenges,
                                            std::chrono::milliseconds timeout) {
  std::vector<std::string> missing;
  for (const auto& replica : replicas) {
    const bool serves = std::all_of(
        challenges.begin(), challenges.end(),
        [&](const crds::PendingChallenge& c) { return answers(transport, replica, c, timeout); });
    if (!serves) missing.push_back(replica);
  }
  return missing;
}

}  // namespace portico::controllers::certificate
