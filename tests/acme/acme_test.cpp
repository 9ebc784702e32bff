#include <doctest/doctest.h>

#include <openssl/x509v3.h>
#include <nlohmann/json.hpp>

#include "acme/client.h"
#include "acme/csr.h"
#include "acme/directory.h"
#include "acme/http01.h"
#include "acme/jws.h"
#include "acme/problem.h"
#include "operator/base/base64.h"
#include "operator/base/pem.h"
#include "operator/base/time_format.h"
#include "tests/fakes/fake_transport.h"
#include "tests/fakes/test_certs.h"

using namespace portico;
using namespace portico::acme;
using nlohmann::json;

TEST_CASE("JWK thumbprint: the RFC 7638 §3.1 example") {
  json jwk = {
      {"kty", "RSA"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
       "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
       "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"},
      {"alg", "RS256"},
      {"kid", "2011-04-29"}};
  auto thumbprint = jwkThumbprint(jwk);
  REQUIRE(thumbprint);
  CHECK(*thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST_CASE("JWK: a P-256 key has fixed-size coordinates; its thumbprint is stable across PEM") {
  auto key = generateAccountKey(KeyAlgorithm::ES256);
  REQUIRE(key);
  auto jwk = publicJwk(key->key.get());
  REQUIRE(jwk);
  CHECK((*jwk)["kty"] == "EC");
  CHECK((*jwk)["crv"] == "P-256");
  CHECK(base64UrlDecode((*jwk)["x"].get<std::string>())->size() == 32);
  CHECK(base64UrlDecode((*jwk)["y"].get<std::string>())->size() == 32);
  auto reloaded = accountKeyFromPem(privateKeyPem(key->key.get()));
  REQUIRE(reloaded);
  CHECK(reloaded->alg == KeyAlgorithm::ES256);
  CHECK(*jwkThumbprint(reloaded->key.get()) == *jwkThumbprint(key->key.get()));
}

TEST_CASE("JWS: ES256 and RS256 requests verify; jwk before registration, kid after") {
  for (auto alg : {KeyAlgorithm::ES256, KeyAlgorithm::RS256}) {
    CAPTURE(algorithmName(alg));
    auto key = generateAccountKey(alg);
    REQUIRE(key);
    auto with_jwk = signJws(*key, {"nonce-1", "https://ca/new-acct", ""}, R"({"a":1})");
    REQUIRE(with_jwk);
    CHECK(verifyJws(key->key.get(), *with_jwk));
    auto header = json::parse(*base64UrlDecode((*with_jwk)["protected"].get<std::string>()));
    CHECK(header["alg"] == algorithmName(alg));
    CHECK(header["nonce"] == "nonce-1");
    CHECK(header["url"] == "https://ca/new-acct");
    CHECK(header.contains("jwk"));
    CHECK_FALSE(header.contains("kid"));
    if (alg == KeyAlgorithm::ES256)  // raw R||S, not DER (RFC 7518 §3.4)
      CHECK(base64UrlDecode((*with_jwk)["signature"].get<std::string>())->size() == 64);

    auto post_as_get = signJws(*key, {"nonce-2", "https://ca/order/1", "https://ca/acct/7"}, "");
    REQUIRE(post_as_get);
    CHECK((*post_as_get)["payload"] == "");
    header = json::parse(*base64UrlDecode((*post_as_get)["protected"].get<std::string>()));
    CHECK(header["kid"] == "https://ca/acct/7");
    CHECK_FALSE(header.contains("jwk"));
    CHECK(verifyJws(key->key.get(), *post_as_get));

    json tampered = *post_as_get;
    tampered["payload"] = base64UrlEncode("{}");
    CHECK_FALSE(verifyJws(key->key.get(), tampered));
  }
}

TEST_CASE("EAB: HS256 over the account JWK, kid = the CA's key id") {
  auto key = generateAccountKey();
  REQUIRE(key);
  auto eab = externalAccountBinding(*key, "kid-1", base64UrlEncode("secret-hmac-key"),
                                    "https://ca/new-acct");
  REQUIRE(eab);
  auto header = json::parse(*base64UrlDecode((*eab)["protected"].get<std::string>()));
  CHECK(header == json{{"alg", "HS256"}, {"kid", "kid-1"}, {"url", "https://ca/new-acct"}});
  CHECK(json::parse(*base64UrlDecode((*eab)["payload"].get<std::string>())) ==
        *publicJwk(key->key.get()));
  CHECK_FALSE(externalAccountBinding(*key, "kid-1", "not base64url!", "u"));
}

TEST_CASE("CSR: every DNS name is a SAN, the signature verifies, for each key type") {
  for (auto alg : {CertificateKeyAlgorithm::ECDSA, CertificateKeyAlgorithm::RSA,
                   CertificateKeyAlgorithm::Ed25519}) {
    auto key = generateCertificateKey(alg);
    REQUIRE(key);
    auto der = makeCsr(key->get(), {"a.example", "b.example", "*.c.example"});
    REQUIRE(der);
    bool signature_ok = false;
    auto names = csrDnsNames(*der, &signature_ok);
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"a.example", "b.example", "*.c.example"});
    CHECK(signature_ok);
  }
  CHECK_FALSE(makeCsr(generateCertificateKey(CertificateKeyAlgorithm::ECDSA)->get(), {}));
  CHECK_FALSE(generateCertificateKey(CertificateKeyAlgorithm::RSA, 1024));
}

TEST_CASE("HTTP-01: key authorization and token syntax") {
  CHECK(keyAuthorization("tok", "thumb") == "tok.thumb");
  CHECK(isValidToken("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"));
  CHECK_FALSE(isValidToken("short"));
  CHECK_FALSE(isValidToken("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ/../etc/passwd"));
  CHECK_FALSE(isValidToken("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA="));
}

TEST_CASE("problems: type, detail, subproblems, Retry-After; as a Status") {
  HttpResponse response;
  response.status = 429;
  response.headers = {{"Retry-After", "120"}, {"Content-Type", "application/problem+json"}};
  response.body = R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many orders",
    "subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"x"}]})";
  auto problem = problemFrom(response);
  CHECK(problem.is("rateLimited"));
  CHECK(problem.status == 429);
  REQUIRE(problem.retry_after);
  CHECK(problem.retry_after->count() == 120);
  CHECK(problem.subproblems.size() == 1);
  CHECK(toStatus(problem).code() == ErrorCode::TooManyRequests);
  CHECK(problem.describe() ==
        "rateLimited: too many orders; rejectedIdentifier: x (retry after 120 s)");

  HttpResponse html;
  html.status = 502;
  html.body = "<html>bad gateway</html>";
  CHECK(toStatus(problemFrom(html)).code() == ErrorCode::Unavailable);
  auto now = std::chrono::system_clock::from_time_t(1700000000);  // Tue, 14 Nov 2023 22:13:20 GMT
  CHECK(parseRetryAfter("Tue, 14 Nov 2023 22:14:20 GMT", now)->count() == 60);
  CHECK_FALSE(parseRetryAfter("soon", now));
}

TEST_CASE("directory: required URLs, ARI and profiles when offered") {
  auto d = parseDirectory(R"({"newNonce":"n","newAccount":"a","newOrder":"o","renewalInfo":"r",
      "meta":{"termsOfService":"tos","externalAccountRequired":true,"profiles":{"classic":"x"}}})");
  REQUIRE(d);
  CHECK(d->renewal_info == "r");
  CHECK(d->external_account_required);
  CHECK(d->profiles.count("classic") == 1);
  CHECK_FALSE(parseDirectory(R"({"newNonce":"n"})"));
  auto pebble = parseDirectory(R"({"newNonce":"n","newAccount":"a","newOrder":"o"})");
  REQUIRE(pebble);
  CHECK(pebble->renewal_info.empty());
}

TEST_CASE("ARI: the renewal window of an RFC 9773 response") {
  auto window = parseRenewalInfo(R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z",
      "end":"2025-01-03T04:00:00Z"},"explanationURL":"https://example.com/docs/ari"})");
  REQUIRE(window);
  CHECK(formatRfc3339(window->start) == "2025-01-02T04:00:00Z");
  CHECK(window->explanation_url == "https://example.com/docs/ari");
  CHECK_FALSE(parseRenewalInfo(
      R"({"suggestedWindow":{"start":"2025-01-03T04:00:00Z","end":"2025-01-02T04:00:00Z"}})"));
}

namespace {
constexpr auto reply = &testing::httpReply;
std::string nonceOf(const HttpRequest& request) {
  auto jws = json::parse(request.body);
  return json::parse(*base64UrlDecode(jws["protected"].get<std::string>()))["nonce"];
}
}  // namespace

TEST_CASE("client: badNonce is retried with the nonce the error carried; the account URL is kept") {
  testing::FakeTransport transport;
  transport.enqueue(reply(200, R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct",
                                   "newOrder":"https://ca/order"})",
                          {}));
  transport.enqueue(reply(200, "", {{"Replay-Nonce", "n1"}}));
  transport.enqueue(reply(400, R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"stale"})",
                          {{"Replay-Nonce", "n2"}}));
  transport.enqueue(reply(201, R"({"status":"valid","contact":["mailto:a@b.c"]})",
                          {{"Location", "https://ca/acct/1"}, {"Replay-Nonce", "n3"}}));
  transport.enqueue(reply(201,
                          R"({"status":"pending","identifiers":[{"type":"dns","value":"a.test"}],
                              "authorizations":["https://ca/authz/1"],"finalize":"https://ca/fin/1"})",
                          {{"Location", "https://ca/order/1"}, {"Replay-Nonce", "n4"}}));
  auto key = generateAccountKey();
  REQUIRE(key);
  AcmeClient client(transport, "https://ca/dir", std::move(*key));
  NewAccountRequest request;
  request.email = "a@b.c";
  auto account = client.account(request);
  REQUIRE(account);
  CHECK(account->url == "https://ca/acct/1");
  CHECK(client.badNonceRetries() == 1);
  auto order = client.newOrder({"a.test"});
  REQUIRE(order);
  CHECK(order->url == "https://ca/order/1");
  CHECK(order->authorizations == std::vector<std::string>{"https://ca/authz/1"});

  auto requests = transport.requests();
  REQUIRE(requests.size() == 5);
  CHECK(requests[1].method == "HEAD");
  CHECK(nonceOf(requests[2]) == "n1");
  CHECK(nonceOf(requests[3]) == "n2");  // the retry used the error's fresh nonce
  CHECK(nonceOf(requests[4]) == "n3");  // and the pool keeps serving fresh ones
  auto payload =
      json::parse(*base64UrlDecode(json::parse(requests[3].body)["payload"].get<std::string>()));
  CHECK(payload["termsOfServiceAgreed"] == true);
  CHECK(payload["contact"] == json::array({"mailto:a@b.c"}));
}

TEST_CASE("client: newOrder asks for a profile the directory offers, refuses one it does not") {
  testing::FakeTransport transport;
  transport.enqueue(reply(200, R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct",
                                   "newOrder":"https://ca/order",
                                   "meta":{"profiles":{"shortlived":"6-day certificates"}}})",
                          {}));
  transport.enqueue(reply(200, "", {{"Replay-Nonce", "n1"}}));
  transport.enqueue(reply(201, R"({"status":"valid"})",
                          {{"Location", "https://ca/acct/1"}, {"Replay-Nonce", "n2"}}));
  transport.enqueue(reply(201,
                          R"({"status":"pending","profile":"shortlived",
                              "authorizations":["https://ca/authz/1"],"finalize":"https://ca/fin/1"})",
                          {{"Location", "https://ca/order/1"}, {"Replay-Nonce", "n3"}}));
  AcmeClient client(transport, "https://ca/dir", std::move(*generateAccountKey()));
  REQUIRE(client.account({}));
  auto order = client.newOrder({"a.test", "b.test"}, "shortlived");
  REQUIRE(order);
  auto requests = transport.requests();
  REQUIRE(requests.size() == 4);
  auto payload =
      json::parse(*base64UrlDecode(json::parse(requests[3].body)["payload"].get<std::string>()));
  CHECK(payload["profile"] == "shortlived");
  CHECK(payload["identifiers"] == json::parse(R"([{"type":"dns","value":"a.test"},
                                                  {"type":"dns","value":"b.test"}])"));

  auto refused = client.newOrder({"a.test"}, "classic");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("no profile \"classic\"") != std::string::npos);
  CHECK(transport.requests().size() == 4);  // refused before anything was sent
}

TEST_CASE("client: a problem other than badNonce is not retried") {
  testing::FakeTransport transport;
  transport.enqueue(reply(200, R"({"newNonce":"n","newAccount":"a","newOrder":"o"})", {}));
  transport.enqueue(reply(200, "", {{"Replay-Nonce", "n1"}}));
  transport.enqueue(
      reply(403, R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"no"})",
            {{"Replay-Nonce", "n2"}}));
  AcmeClient client(transport, "https://ca/dir", std::move(*generateAccountKey()));
  auto account = client.account({});
  REQUIRE_FALSE(account);
  CHECK(account.error().message().find("rejectedIdentifier") != std::string::npos);
  CHECK(transport.requests().size() == 3);
}

TEST_CASE("preferred chain: the chain whose issuer CN matches, else the default") {
  auto root_a = testing::makeCertificate(
      {"Root A"}, std::chrono::system_clock::now() - std::chrono::hours(1),
      std::chrono::system_clock::now() + std::chrono::hours(24), nullptr, true);
  auto root_b = testing::makeCertificate(
      {"Root B"}, std::chrono::system_clock::now() - std::chrono::hours(1),
      std::chrono::system_clock::now() + std::chrono::hours(24), nullptr, true);
  auto leaf_a =
      testing::makeCertificate({"x.test"}, std::chrono::system_clock::now() - std::chrono::hours(1),
                               std::chrono::system_clock::now() + std::chrono::hours(24), &root_a);
  auto leaf_b =
      testing::makeCertificate({"x.test"}, std::chrono::system_clock::now() - std::chrono::hours(1),
                               std::chrono::system_clock::now() + std::chrono::hours(24), &root_b);
  std::vector<std::string> chains = {leaf_a.cert_pem, leaf_b.cert_pem};
  CHECK(choosePreferredChain(chains, "") == 0);
  CHECK(choosePreferredChain(chains, "Root B") == 1);
  CHECK(choosePreferredChain(chains, "Nobody") == 0);
}

TEST_CASE("ARI certID: base64url(the issuer's key identifier) . base64url(the serial's bytes)") {
  auto now = std::chrono::system_clock::now();
  auto root = testing::makeCertificate({"Root"}, now - std::chrono::hours(1),
                                       now + std::chrono::hours(24), nullptr, true);
  auto leaf = testing::makeCertificate({"x.test"}, now - std::chrono::hours(1),
                                       now + std::chrono::hours(24), &root);
  auto root_cert = parseCertificateChain(root.cert_pem);
  auto leaf_cert = parseCertificateChain(leaf.cert_pem);
  REQUIRE(root_cert);
  REQUIRE(leaf_cert);
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id((*root_cert)[0].get());
  REQUIRE(ski);
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber((*leaf_cert)[0].get()), nullptr);
  std::string serial_bytes(static_cast<size_t>(BN_num_bytes(serial)), '\0');
  BN_bn2bin(serial, reinterpret_cast<unsigned char*>(serial_bytes.data()));
  BN_free(serial);
  if (static_cast<unsigned char>(serial_bytes[0]) & 0x80) serial_bytes.insert(0, 1, '\0');
  auto id = ariCertId(leaf.cert_pem);
  REQUIRE(id);
  CHECK(*id ==
        base64UrlEncode(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ski)),
                                         static_cast<size_t>(ASN1_STRING_length(ski)))) +
            "." + base64UrlEncode(serial_bytes));
  CHECK_FALSE(ariCertId(root.cert_pem));  // self-signed without an AKI
}
