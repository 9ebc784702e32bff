#include "crds/meta.h"

#include <nlohmann/json.hpp>

namespace portico::crds {

void from_json(const Json& j, OwnerReference& out) {
  out.api_version = j.value("apiVersion", "");
  out.kind = j.value("kind", "");
  out.name = j.value("name", "");
  out.uid = j.value("uid", "");
  out.controller = j.value("controller", false);
  out.block_owner_deletion = j.value("blockOwnerDeletion", false);
}

void to_json(Json& j, const OwnerReference& in) {
  j = Json{{"apiVersion", in.api_version}, {"kind", in.kind}, {"name", in.name}, {"uid", in.uid}};
  if (in.controller) j["controller"] = true;
  if (in.block_owner_deletion) j["blockOwnerDeletion"] = true;
}

void from_json(const Json& j, ObjectMeta& out) {
  out = ObjectMeta{};
  if (!j.is_object()) return;
  out.name = j.value("name", "");
  out.namespace_ = j.value("namespace", "");
  out.uid = j.value("uid", "");
  out.resource_version = j.value("resourceVersion", "");
  out.generation = j.value("generation", int64_t{0});
  out.creation_timestamp = j.value("creationTimestamp", "");
  if (auto it = j.find("labels"); it != j.end() && it->is_object())
    out.labels = it->get<std::map<std::string, std::string>>();
  if (auto it = j.find("annotations"); it != j.end() && it->is_object())
    out.annotations = it->get<std::map<std::string, std::string>>();
  if (auto it = j.find("ownerReferences"); it != j.end() && it->is_array())
    out.owner_references = it->get<std::vector<OwnerReference>>();
}

void to_json(Json& j, const ObjectMeta& in) {
  j = Json::object();
  j["name"] = in.name;
  if (!in.namespace_.empty()) j["namespace"] = in.namespace_;
  if (!in.uid.empty()) j["uid"] = in.uid;
  if (!in.resource_version.empty()) j["resourceVersion"] = in.resource_version;
  if (in.generation) j["generation"] = in.generation;
  if (!in.creation_timestamp.empty()) j["creationTimestamp"] = in.creation_timestamp;
  if (!in.labels.empty()) j["labels"] = in.labels;
  if (!in.annotations.empty()) j["annotations"] = in.annotations;
  if (!in.owner_references.empty()) j["ownerReferences"] = in.owner_references;
}

std::vector<LoadBalancerIngress> loadBalancerFromStatus(const Json& status) {
  std::vector<LoadBalancerIngress> out;
  auto lb = status.find("loadBalancer");
  if (lb == status.end() || !lb->is_object()) return out;
  auto entries = lb->find("ingress");
  if (entries == lb->end() || !entries->is_array()) return out;
  for (const auto& e : *entries) out.push_back({e.value("ip", ""), e.value("hostname", "")});
  return out;
}

Json objectAt(const Json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_object() ? *it : Json::object();
}

Json loadBalancerToJson(const std::vector<LoadBalancerIngress>& entries) {
  Json list = Json::array();
  for (const auto& e : entries) {
    Json item = Json::object();
    if (!e.ip.empty()) item["ip"] = e.ip;
    if (!e.hostname.empty()) item["hostname"] = e.hostname;
    list.push_back(item);
  }
  return list;
}

}  // namespace portico::crds
