// core/v1 Secret. `data` holds decoded bytes: base64 is handled here and nowhere else.
// Secret contents are never logged.
#pragma once

#include <map>
#include <string>

#include "crds/meta.h"

namespace portico::crds {

inline constexpr const char* kTlsSecretType = "kubernetes.io/tls";

struct Secret {
  ObjectMeta metadata;
  std::string type = "Opaque";
  std::map<std::string, std::string> data;  // decoded
  // Set (and `data` empty) for a Secret that exists but whose content could not be decoded:
  // readers tell "invalid" from "missing", and keep what they served before.
  std::string decode_error;

  const std::string* find(const std::string& key) const {
    auto it = data.find(key);
    return it == data.end() ? nullptr : &it->second;
  }
};

// Throws std::invalid_argument on a value that is not base64 (naming the key, not the value).
void from_json(const Json& j, Secret& out);
void to_json(Json& j, const Secret& in);

}  // namespace portico::crds
