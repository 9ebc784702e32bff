// libFuzzer target: what an ACME server sends back (RFC 8555 directory, orders,
// authorizations, problem documents, Retry-After; RFC 9773 renewal info). A hostile or broken
// CA must get an error, never a crash or undefined behaviour.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "acme/client.h"
#include "acme/directory.h"
#include "acme/objects.h"
#include "acme/problem.h"

using namespace portico;
using namespace portico::acme;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  (void)parseDirectory(body);
  (void)parseRenewalInfo(body);
  (void)parseRetryAfter(body, std::chrono::system_clock::now());
  HttpResponse response;
  response.status = size > 0 ? 400 + data[0] % 200 : 500;
  response.body = body;
  response.headers = {{"Content-Type", "application/problem+json"}, {"Retry-After", body}};
  (void)toStatus(problemFrom(response));
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded()) return 0;
  try {  // the client parses these inside a reconcile, which turns a throw into an error
    (void)parseOrder(json, "https://ca/order/1");
    (void)parseAuthorization(json, "https://ca/authz/1");
    (void)parseChallenge(json);
  } catch (const nlohmann::json::exception&) {
  }
  return 0;
}
