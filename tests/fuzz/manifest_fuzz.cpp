// libFuzzer target: manifest YAML (multi-document) → JSON objects → their resource, as
// `portico local` reads a manifest directory. A bad file is an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "operator/local/kinds.h"
#include "operator/local/manifests.h"

using namespace portico::local;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto documents = parseYamlDocuments(text);
  if (!documents) return 0;
  for (const auto& document : *documents) {
    if (!document.is_object()) continue;
    auto api_version = document.find("apiVersion");
    auto kind = document.find("kind");
    if (api_version != document.end() && api_version->is_string() && kind != document.end() &&
        kind->is_string())
      (void)resourceFor(api_version->get<std::string>(), kind->get<std::string>());
  }
  return 0;
}
