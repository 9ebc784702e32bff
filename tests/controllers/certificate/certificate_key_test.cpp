#include <doctest/doctest.h>

#include "controllers/certificate/certificate_key.h"

using namespace portico;

TEST_CASE("next key Secret: named after the Certificate, owned by it (deleted with it)") {
  crds::Certificate cert;
  cert.metadata.namespace_ = "shop";
  cert.metadata.name = "web-tls";
  cert.metadata.uid = "5d0c8a5e-0000-4000-8000-000000000001";
  crds::Secret next = controllers::certificate::nextKeySecret(cert, "-----BEGIN PRIVATE KEY-----");
  CHECK(next.metadata.namespace_ == "shop");
  CHECK(next.metadata.name == "web-tls-portico-next-key");
  CHECK(next.type == "Opaque");
  REQUIRE(next.metadata.owner_references.size() == 1);
  const auto& owner = next.metadata.owner_references[0];
  CHECK(owner.api_version == "portico.io/v1alpha1");
  CHECK(owner.kind == "Certificate");
  CHECK(owner.name == "web-tls");
  CHECK(owner.uid == cert.metadata.uid);
  CHECK(owner.controller);
  CHECK_FALSE(owner.block_owner_deletion);  // needs no permission on the Certificate's finalizers
}
