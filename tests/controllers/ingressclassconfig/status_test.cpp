#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "controllers/ingressclassconfig/status.h"

using namespace portico;
using namespace portico::controllers;
using crds::Json;

namespace {
crds::IngressClassConfig config(int64_t generation, Json spec = Json::object()) {
  Json j = {{"metadata", {{"name", "portico"}, {"generation", generation}}}, {"spec", spec}};
  return j.get<crds::IngressClassConfig>();
}
routes::PublishedRoutes published(uint64_t generation, int64_t applied_config_generation) {
  routes::PublishedRoutes p;
  p.generation = generation;
  p.built.ready = true;
  p.built.served.name = "portico";
  p.built.applied_config_generation = applied_config_generation;
  p.built.ingresses = {{"shop", "a"}, {"shop", "b"}};
  return p;
}
std::string status(const crds::IngressClassConfigStatus& s, const char* type) {
  const auto* c = crds::findCondition(s.conditions, type);
  return c ? c->status + "/" + c->reason : "-";
}
}  // namespace

TEST_CASE("config status: Accepted and Programmed say why") {
  SUBCASE("valid and published") {
    auto p = published(7, 2);
    auto s = ingressclassconfig::desiredStatus(config(2), &p, "2026-01-01T00:00:00Z");
    CHECK(status(s, "Accepted") == "True/Valid");
    CHECK(status(s, "Programmed") == "True/Published");
    CHECK(s.snapshot_generation == 7);
    CHECK(s.ingresses == 2);
    CHECK(s.observed_generation == 2);
  }
  SUBCASE("no snapshot yet") {
    auto s = ingressclassconfig::desiredStatus(config(1), nullptr, "2026-01-01T00:00:00Z");
    CHECK(status(s, "Programmed") == "Unknown/Pending");
  }
  SUBCASE("invalid with nothing valid before: nothing is served, and Programmed says so") {
    auto s = ingressclassconfig::desiredStatus(
        config(1, {{"proxy", {{"headerTimeoutSeconds", 0}}}}), nullptr, "2026-01-01T00:00:00Z");
    CHECK(status(s, "Accepted") == "False/InvalidSpec");
    CHECK(status(s, "Programmed") == "False/NotPublished");
  }
  SUBCASE("a Server header value that could inject headers is invalid") {
    auto s = ingressclassconfig::desiredStatus(
        config(1, {{"proxy", {{"serverHeader", "portico\r\nSet-Cookie: a=b"}}}}), nullptr,
        "2026-01-01T00:00:00Z");
    CHECK(status(s, "Accepted") == "False/InvalidSpec");
    CHECK(crds::findCondition(s.conditions, "Accepted")->message.find("spec.proxy.serverHeader") !=
          std::string::npos);
  }
  SUBCASE("invalid: the older valid generation stays in service") {
    auto p = published(7, 2);
    auto s = ingressclassconfig::desiredStatus(
        config(3, {{"listeners", {{"https", {{"port", 99999}}}}}}), &p, "2026-01-01T00:00:00Z");
    CHECK(status(s, "Accepted") == "False/InvalidSpec");
    CHECK(
        crds::findCondition(s.conditions, "Accepted")->message.find("spec.listeners.https.port") !=
        std::string::npos);
    CHECK(status(s, "Programmed") == "False/NotPublished");
    CHECK(crds::findCondition(s.conditions, "Programmed")->message ==
          "still serving generation 2 of this spec because this one is invalid");
  }
}

TEST_CASE("config status: fixpoint — the second computation changes nothing, times are kept") {
  auto p = published(7, 2);
  auto c = config(2);
  auto first = ingressclassconfig::desiredStatus(c, &p, "2026-01-01T00:00:00Z");
  c.status = first;
  auto second = ingressclassconfig::desiredStatus(c, &p, "2026-06-01T00:00:00Z");
  CHECK(ingressclassconfig::sameStatus(c.status, second));
  CHECK(crds::findCondition(second.conditions, "Accepted")->last_transition_time ==
        "2026-01-01T00:00:00Z");
  // A new snapshot generation is a change to write, not a transition.
  auto q = published(8, 2);
  auto third = ingressclassconfig::desiredStatus(c, &q, "2026-06-01T00:00:00Z");
  CHECK_FALSE(ingressclassconfig::sameStatus(c.status, third));
  CHECK(crds::findCondition(third.conditions, "Programmed")->last_transition_time ==
        "2026-01-01T00:00:00Z");
}
