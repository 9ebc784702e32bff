// libFuzzer target: TLS Secret contents — a kubernetes.io/tls Secret's JSON (base64 data) and
// the PEM certificate chain and key inside it, checked as the route compiler checks them.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crds/secret.h"
#include "operator/base/pem.h"

using namespace portico;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto split = input.find('\0');  // certificate chain, NUL, key
  std::string_view chain = input.substr(0, split);
  std::string_view key = split == std::string_view::npos ? "" : input.substr(split + 1);
  (void)parseCertificateChain(chain);
  (void)parsePrivateKey(key);
  (void)chainRootPem(chain);
  if (auto info = checkTlsPair(chain, key, std::chrono::system_clock::now()))
    for (const auto& name : info->dns_names) (void)nameCoversHost(name, "a.example");
  auto json = nlohmann::json::parse(input, nullptr, false);
  if (!json.is_discarded()) {
    try {  // the Secret tracker keeps one that does not decode as "cannot be decoded"
      (void)json.get<crds::Secret>();
    } catch (const std::exception&) {
    }
  }
  return 0;
}
