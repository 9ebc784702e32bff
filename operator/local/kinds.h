// apiVersion + kind → the REST resource that stores it, for the objects `portico local` reads
// from files and writes to its state directory. EndpointSlices of either served version are
// stored as v1 (the fields Portico reads are the same), so one informer sees them all.
#pragma once

#include <string>
#include <vector>

#include "operator/base/status.h"
#include "operator/kube/client.h"

namespace portico::local {

Expected<kube::Resource> resourceFor(const std::string& api_version, const std::string& kind);

// The group/versions `portico local` serves (what discovery answers).
std::vector<kube::GroupVersion> localGroupVersions();

}  // namespace portico::local
