// Replica check for HTTP-01 (high availability): the CA's validation request may land on any
// replica behind the load balancer, so before the CA is asked to look, the leader asks every
// replica's proxy for each challenge directly (pod to pod, by the EndpointSlices of the
// operator's own Service — never through the load balancer, so no hairpin problem) and expects
// the key authorization back (RFC 8555 §8.3).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "crds/certificate.h"
#include "crds/service.h"
#include "operator/base/http_transport.h"
#include "operator/base/object_key.h"

namespace portico::controllers::certificate {

// "host:port" (IPv6 in brackets) of every ready endpoint of `service` on the port named
// `port_name`, from its EndpointSlices; sorted, without duplicates. FQDN slices are skipped.
std::vector<std::string> replicaAddresses(
    const std::vector<std::shared_ptr<const crds::EndpointSlice>>& slices, const ObjectKey& service,
    const std::string& port_name);

// The replicas among `replicas` whose proxy does not answer every challenge with its key
// authorization (a connection failure, a timeout, another status or body all count as not).
std::vector<std::string> replicasNotServing(HttpTransport& transport,
                                            const std::vector<std::string>& replicas,
                                            const std::vector<crds::PendingChallenge>& challenges,
                                            std::chrono::milliseconds timeout);

}  // namespace portico::controllers::certificate
