#include "controllers/certificate/secrets.h"

#include <nlohmann/json.hpp>

namespace portico::controllers::certificate {

namespace {
const kube::Resource kSecrets = kube::resources::secrets();
}  // namespace

Expected<std::shared_ptr<crds::Secret>> getSecret(kube::KubeClient& client, const ObjectKey& key) {
  auto object = client.get(kSecrets, key);
  if (!object) {
    if (object.error().code() == ErrorCode::NotFound) return std::shared_ptr<crds::Secret>();
    return object.error();
  }
  try {
    return std::make_shared<crds::Secret>(object->get<crds::Secret>());
  } catch (const std::exception& e) {
    return Status(ErrorCode::DecodeError,
                  std::string("Secret ") + key.toString() + ": " + e.what());
  }
}

Status putSecret(kube::KubeClient& client, const crds::Secret& secret) {
  nlohmann::json object = secret;
  auto created = client.create(kSecrets, object);
  if (created) return Status::ok();
  if (created.error().code() != ErrorCode::AlreadyExists) return created.error();
  nlohmann::json patch = {
      {"type", secret.type},
      {"data", object["data"]},
      {"metadata",
       {{"labels", object["metadata"].value("labels", nlohmann::json::object())},
        {"annotations", object["metadata"].value("annotations", nlohmann::json::object())}}}};
  auto patched =
      client.patch(kSecrets, secret.metadata.key(), kube::PatchType::Merge, patch.dump(), {});
  return patched ? Status::ok() : patched.error();
}

Status deleteSecret(kube::KubeClient& client, const ObjectKey& key) {
  Status st = client.remove(kSecrets, key, {});
  if (!st && st.code() == ErrorCode::NotFound) return Status::ok();
  return st;
}

}  // namespace portico::controllers::certificate
