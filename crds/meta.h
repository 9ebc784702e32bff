// ObjectMeta and the small shared types of every object we read or write, with JSON codecs.
// Decoding is lenient about absent fields (the API server omits empty ones) and strict about
// wrong types (nlohmann throws; the informer drops that object with a log line).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "operator/base/object_key.h"

namespace portico::crds {

using Json = nlohmann::json;

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;
  bool block_owner_deletion = false;
  bool operator==(const OwnerReference&) const = default;
};

struct ObjectMeta {
  std::string name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;  // RFC 3339; empty for objects not yet stored
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<OwnerReference> owner_references;

  ObjectKey key() const { return {namespace_, name}; }
  std::string annotation(const std::string& key_name, const std::string& fallback = "") const {
    auto it = annotations.find(key_name);
    return it == annotations.end() ? fallback : it->second;
  }
};

// One entry of status.loadBalancer.ingress (Services and Ingresses).
struct LoadBalancerIngress {
  std::string ip;
  std::string hostname;
  bool operator==(const LoadBalancerIngress&) const = default;
};
std::vector<LoadBalancerIngress> loadBalancerFromStatus(const Json& status);
Json loadBalancerToJson(const std::vector<LoadBalancerIngress>& entries);

// The object at j[name], or {} when it is absent or not an object (lenient decoding).
Json objectAt(const Json& j, const char* name);

void from_json(const Json& j, OwnerReference& out);
void to_json(Json& j, const OwnerReference& in);
void from_json(const Json& j, ObjectMeta& out);
void to_json(Json& j, const ObjectMeta& in);

}  // namespace portico::crds
