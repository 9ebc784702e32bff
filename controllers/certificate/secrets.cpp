#include "controllers/certificate/secrets.h"

#include <nlohmann/json.hpp>

#include "controllers/certificate/policies.h"

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

bool secretWritableBy(const crds::Secret& existing, const crds::Secret& desired) {
  for (const char* annotation : {kCertificateNameAnnotation, kAcmeAccountAnnotation}) {
    const std::string wanted = desired.metadata.annotation(annotation);
    if (!wanted.empty() && existing.metadata.annotation(annotation) == wanted) return true;
  }
  for (const auto& mine : desired.metadata.owner_references)
    for (const auto& theirs : existing.metadata.owner_references)
      if (!mine.uid.empty() && mine.uid == theirs.uid) return true;
  return false;
}

Status putSecret(kube::KubeClient& client, const crds::Secret& secret) {
  nlohmann::json object = secret;
  auto created = client.create(kSecrets, object);
  if (created) return Status::ok();
  if (created.error().code() != ErrorCode::AlreadyExists) return created.error();
  auto existing = getSecret(client, secret.metadata.key());
  if (!existing) return existing.error();
  if (*existing && !secretWritableBy(**existing, secret))
    return Status(ErrorCode::AlreadyExists,
                  "Secret " + secret.metadata.key().toString() +
                      " exists and is not Portico's (no " + kCertificateNameAnnotation +
                      " annotation or owner reference of ours): it is never overwritten; delete "
                      "it, name another secretName, or annotate it to hand it over")
        .withHttp(409, kSecretOwnedByOther);
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
