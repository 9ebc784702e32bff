// Portico never overwrites a Secret it does not own (the confused-deputy defence).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "controllers/certificate/policies.h"
#include "controllers/certificate/secrets.h"
#include "tests/fakes/fake_kube_client.h"

using namespace portico;
using namespace portico::controllers::certificate;

namespace {

crds::Secret tlsSecretFor(const std::string& certificate, const std::string& key) {
  crds::Secret s;
  s.metadata.namespace_ = "shop";
  s.metadata.name = "web-tls";
  s.metadata.annotations[kCertificateNameAnnotation] = certificate;
  s.type = crds::kTlsSecretType;
  s.data["tls.key"] = key;
  return s;
}

std::string storedKey(testing::FakeKubeClient& api) {
  auto stored = getSecret(api, {"shop", "web-tls"});
  REQUIRE(stored);
  REQUIRE(*stored);
  const std::string* value = (*stored)->find("tls.key");
  return value ? *value : (*stored)->find("password") ? "password" : "";
}

}  // namespace

TEST_CASE("secrets: what makes an existing Secret Portico's to overwrite") {
  crds::Secret desired = tlsSecretFor("web", "new");
  desired.metadata.owner_references.push_back(
      {"portico.io/v1alpha1", "Certificate", "web", "uid-1", true, false});
  struct Row {
    const char* name;
    std::map<std::string, std::string> annotations;
    std::string owner_uid;
    bool writable;
  };
  const Row rows[] = {
      {"an application's Secret", {}, "", false},
      {"another Certificate's Secret", {{kCertificateNameAnnotation, "other"}}, "", false},
      {"an unrelated annotation", {{"example.com/owner", "web"}}, "", false},
      {"another owner", {}, "uid-2", false},
      {"this Certificate's annotation", {{kCertificateNameAnnotation, "web"}}, "", true},
      {"owned by this Certificate", {}, "uid-1", true},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      crds::Secret existing;
      existing.metadata.annotations = row.annotations;
      if (!row.owner_uid.empty())
        existing.metadata.owner_references.push_back(
            {"v1", "Something", "x", row.owner_uid, true, false});
      CHECK(secretWritableBy(existing, desired) == row.writable);
    }
  }
}

TEST_CASE("secrets: putSecret never overwrites a Secret that is not Portico's") {
  testing::FakeKubeClient api;
  SUBCASE("an application's Secret of that name stays as it was") {
    REQUIRE(api.create(kube::resources::secrets(),
                       {{"apiVersion", "v1"},
                        {"kind", "Secret"},
                        {"metadata", {{"name", "web-tls"}, {"namespace", "shop"}}},
                        {"data", {{"password", "aHVudGVyMg=="}}}}));
    Status st = putSecret(api, tlsSecretFor("web", "new"));
    REQUIRE_FALSE(st);
    CHECK(st.reason() == kSecretOwnedByOther);
    CHECK(storedKey(api) == "password");
  }
  SUBCASE("Portico's own Secret is replaced") {
    REQUIRE(putSecret(api, tlsSecretFor("web", "old")));
    REQUIRE(putSecret(api, tlsSecretFor("web", "new")));
    CHECK(storedKey(api) == "new");
  }
  SUBCASE("another Certificate's Secret is not taken over") {
    REQUIRE(putSecret(api, tlsSecretFor("other", "theirs")));
    Status st = putSecret(api, tlsSecretFor("web", "mine"));
    CHECK(st.reason() == kSecretOwnedByOther);
    CHECK(storedKey(api) == "theirs");
  }
}
