// libFuzzer target: the route compiler on an arbitrary Ingress (JSON, as the API server or a
// manifest hands it over) beside a valid one. Whatever the input, the table is consistent: it
// round-trips through the snapshot codec, and the valid Ingress's route still answers.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "controllers/routes/compile.h"
#include "operator/proxy/snapshot_codec.h"

using namespace portico;
using namespace portico::controllers::routes;

namespace {

template <typename T>
std::shared_ptr<const T> parse(const char* json) {
  return std::make_shared<const T>(nlohmann::json::parse(json).get<T>());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto json =
      nlohmann::json::parse(std::string(reinterpret_cast<const char*>(data), size), nullptr, false);
  if (json.is_discarded() || !json.is_object()) return 0;
  std::shared_ptr<const crds::Ingress> hostile;
  try {  // the informer skips objects that do not decode
    if (!json.contains("metadata") || !json["metadata"].is_object()) json["metadata"] = {};
    json["metadata"]["namespace"] = "web";
    json["metadata"]["name"] = "zz-hostile";
    json["metadata"]["creationTimestamp"] = "2030-01-01T00:00:00Z";  // newer than the valid one
    hostile = std::make_shared<const crds::Ingress>(json.get<crds::Ingress>());
  } catch (const std::exception&) {
    return 0;
  }
  RouteInputs in;
  in.now = std::chrono::system_clock::now();
  in.services = {parse<crds::Service>(
      R"({"metadata":{"namespace":"web","name":"site"},
          "spec":{"ports":[{"name":"http","port":80,"targetPort":8080}]}})")};
  in.endpoint_slices = {parse<crds::EndpointSlice>(
      R"({"metadata":{"namespace":"web","name":"site-1",
          "labels":{"kubernetes.io/service-name":"site"}},"addressType":"IPv4",
          "ports":[{"name":"http","port":8080}],
          "endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":true}}]})")};
  in.ingresses = {parse<crds::Ingress>(
                      R"({"metadata":{"namespace":"web","name":"aa-valid",
                          "creationTimestamp":"2020-01-01T00:00:00Z"},
                          "spec":{"rules":[{"host":"valid.example","http":{"paths":[{"path":"/",
                          "pathType":"Prefix","backend":{"service":{"name":"site",
                          "port":{"number":80}}}}]}}]}})"),
                  hostile};
  auto out = compileRoutes(in);
  auto decoded = proxy::snapshot::decode(proxy::snapshot::encode(out.table));
  if (!decoded || !(*decoded == out.table)) std::abort();
  // An older valid Ingress keeps its exact host whatever the newer one claims.
  if (!out.table.match("valid.example", "/").found()) std::abort();
  return 0;
}
