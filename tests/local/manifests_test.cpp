#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>

#include "operator/local/manifests.h"

using namespace portico::local;

TEST_CASE("manifests: YAML scalars get Kubernetes' types; quoted stay strings") {
  auto docs = parseYamlDocuments(R"(
a: true
b: "true"
c: 8080
d: "8080"
e: 1.5
f: ~
g: hello
h: -3
i: 1.2.3
---
---
kind: List
apiVersion: v1
items: [{kind: X}, {kind: Y}]
)");
  REQUIRE(docs);
  REQUIRE(docs->size() == 3);
  const auto& d = (*docs)[0];
  CHECK(d["a"] == true);
  CHECK(d["b"] == "true");
  CHECK(d["c"] == 8080);
  CHECK(d["d"] == "8080");
  CHECK(d["e"] == 1.5);
  CHECK(d["f"].is_null());
  CHECK(d["g"] == "hello");
  CHECK(d["h"] == -3);
  CHECK(d["i"] == "1.2.3");
  CHECK((*docs)[2]["kind"] == "Y");
}

TEST_CASE("manifests: a directory loads sorted, namespaced by default, errors name the file") {
  char tmpl[] = "/tmp/portico-manifests-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/b.yaml") << "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n";
  std::ofstream(dir + "/a.json")
      << R"({"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"c"}})";
  std::ofstream(dir + "/notes.txt") << "ignored";
  auto objects = loadManifestDir(dir);
  REQUIRE(objects);
  REQUIRE(objects->size() == 2);
  CHECK((*objects)[0].kind() == "IngressClass");
  CHECK_FALSE((*objects)[0].object["metadata"].contains("namespace"));  // cluster-scoped
  CHECK((*objects)[1].object["metadata"]["namespace"] == "default");
  CHECK((*objects)[1].origin == dir + "/b.yaml#1");

  std::ofstream(dir + "/c.yaml") << "apiVersion: v1\nkind: Service\nmetadata: {}\n";
  auto unnamed = loadManifestDir(dir);
  REQUIRE_FALSE(unnamed);
  CHECK(unnamed.error().message() == dir + "/c.yaml#1: metadata.name is required");
  std::ofstream(dir + "/c.yaml") << "key: [unclosed\n";
  auto broken = loadManifestDir(dir);
  REQUIRE_FALSE(broken);
  CHECK(broken.error().message().find(dir + "/c.yaml: line") == 0);
}

TEST_CASE("manifests: a YAML stream splits at its markers; yaml-cpp's LoadAll loop is avoided") {
  struct Row {
    const char* name;
    const char* text;
    size_t documents;  // SIZE_MAX: an error
  };
  const Row rows[] = {
      {"a stray comma (yaml-cpp 0.7's LoadAll never returned)", ",----\x1e", SIZE_MAX},
      {"a comma after a marker", "a: 1\n---\n,", SIZE_MAX},
      {"three documents, empty ones skipped", "---\na: 1\n---\n---\nb: 2\n...\nc: 3\n", 3},
      {"content on the marker line", "--- {a: 1}\n--- [1, 2]\n", 2},
      {"a block scalar ends at a marker", "a: |\n  text\n---\nb: 2\n", 2},
      {"a directive before a marker", "%YAML 1.2\n---\na: 1\n", 1},
      {"CRLF line ends", "a: 1\r\n---\r\nb: 2\r\n", 2},
      {"no marker at all", "a: 1\n", 1},
      {"a marker-like value is not a marker", "a: ---x\nb: '---'\n", 1},
      {"a kind with no value (threw out of the parser)", "kind:\nitems: []\n", 1},
      {"a List with items", "kind: List\nitems: [{a: 1}, {b: 2}]\n", 2},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      auto docs = portico::local::parseYamlDocuments(row.text);
      if (row.documents == SIZE_MAX) {
        CHECK_FALSE(docs);
      } else {
        REQUIRE(docs);
        CHECK(docs->size() == row.documents);
      }
    }
  }
  auto error = portico::local::parseYamlDocuments("a: 1\n---\nb: [1,\n");
  REQUIRE_FALSE(error);
  CHECK(error.error().message().find("line ") == 0);
}
