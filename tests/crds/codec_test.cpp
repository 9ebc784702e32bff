#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "crds/ingress.h"
#include "crds/ingress_class_config.h"
#include "crds/secret.h"
#include "crds/service.h"

using namespace portico::crds;

TEST_CASE("codecs: an Ingress round-trips through JSON") {
  const char* text = R"({"apiVersion":"networking.k8s.io/v1","kind":"Ingress",
    "metadata":{"name":"web","namespace":"shop","annotations":{"portico.io/tls-acme":"true"}},
    "spec":{"ingressClassName":"portico",
      "defaultBackend":{"service":{"name":"fallback","port":{"name":"http"}}},
      "tls":[{"hosts":["shop.example"],"secretName":"shop-tls"}],
      "rules":[{"host":"shop.example","http":{"paths":[
        {"path":"/","pathType":"Prefix","backend":{"service":{"name":"site","port":{"number":80}}}},
        {"path":"/exact","pathType":"Exact","backend":{"service":{"name":"site","port":{"number":80}}}}]}}]},
    "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1"}]}}})";
  Ingress in = Json::parse(text).get<Ingress>();
  CHECK(in.metadata.key().toString() == "shop/web");
  CHECK(in.spec.ingress_class_name == "portico");
  CHECK(in.spec.default_backend->service->port.name == "http");
  CHECK(in.spec.rules[0].paths[1].path_type == PathType::Exact);
  CHECK(in.status_load_balancer[0].ip == "192.0.2.1");
  Ingress again = Json(in).get<Ingress>();
  CHECK(Json(again) == Json(in));
}

TEST_CASE("codecs: a bad pathType is a decode error naming it") {
  auto bad =
      Json::parse(R"({"spec":{"rules":[{"http":{"paths":[{"path":"/","pathType":"Regex"}]}}]}})");
  CHECK_THROWS_WITH(bad.get<Ingress>(), "unknown pathType \"Regex\"");
}

TEST_CASE("codecs: Service targetPort number, name and default") {
  auto svc = Json::parse(R"({"metadata":{"name":"s"},"spec":{"ports":[
    {"name":"a","port":80,"targetPort":8080},{"name":"b","port":81,"targetPort":"web"},{"port":82}]}})")
                 .get<Service>();
  CHECK(svc.ports[0].target_port_number == 8080);
  CHECK(svc.ports[1].target_port_name == "web");
  CHECK(svc.ports[2].target_port_number == 82);
  CHECK(svc.portByName("b")->port == 81);
  CHECK(svc.portByNumber(82) != nullptr);
}

TEST_CASE("codecs: EndpointSlice conditions default as the API documents") {
  auto s = Json::parse(R"({"metadata":{"name":"x","labels":{"kubernetes.io/service-name":"svc"}},
    "addressType":"IPv4","ports":[{"name":null,"port":8080}],
    "endpoints":[{"addresses":["10.0.0.1"]},{"addresses":["10.0.0.2"],"conditions":{"ready":false}}]})")
               .get<EndpointSlice>();
  CHECK(s.serviceName() == "svc");
  CHECK(s.ports[0].name == "");
  CHECK(s.endpoints[0].ready);
  CHECK_FALSE(s.endpoints[1].ready);
}

TEST_CASE("codecs: Secret data is base64-decoded; bad base64 names the key only") {
  auto s =
      Json::parse(
          R"({"metadata":{"name":"t"},"type":"kubernetes.io/tls","data":{"tls.crt":"Q0VSVA=="}})")
          .get<Secret>();
  CHECK(*s.find("tls.crt") == "CERT");
  CHECK(Json(s)["data"]["tls.crt"] == "Q0VSVA==");
  auto bad = Json::parse(R"({"data":{"tls.key":"not base64!"}})");
  CHECK_THROWS_WITH(bad.get<Secret>(), "data.tls.key is not valid base64");
}

TEST_CASE("codecs: the HTTPS listener's HTTP/2 switch round-trips; off unless set") {
  auto config = Json::parse(R"({"metadata":{"name":"portico"},
      "spec":{"listeners":{"https":{"port":8443,"http2":true}}}})")
                    .get<IngressClassConfig>();
  CHECK(config.spec.listeners.http2);
  CHECK(config.spec.listeners.https_port == 8443);
  Json back = config;
  CHECK(back["spec"]["listeners"]["https"]["http2"] == true);
  CHECK_FALSE(Json::parse(R"({"metadata":{"name":"p"},"spec":{}})")
                  .get<IngressClassConfig>()
                  .spec.listeners.http2);
}
