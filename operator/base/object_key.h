// ObjectKey: the identity of a namespaced or cluster-scoped object ("ns/name" or "name").
#pragma once

#include <compare>
#include <functional>
#include <string>

namespace portico {

struct ObjectKey {
  std::string namespace_;  // empty for cluster-scoped objects
  std::string name;

  auto operator<=>(const ObjectKey&) const = default;
  bool operator==(const ObjectKey&) const = default;

  std::string toString() const { return namespace_.empty() ? name : namespace_ + "/" + name; }

  // Inverse of toString(): "ns/name" or "name".
  static ObjectKey parse(const std::string& text) {
    auto slash = text.find('/');
    if (slash == std::string::npos) return {"", text};
    return {text.substr(0, slash), text.substr(slash + 1)};
  }
};

}  // namespace portico

template <>
struct std::hash<portico::ObjectKey> {
  size_t operator()(const portico::ObjectKey& key) const noexcept {
    size_t h = std::hash<std::string>{}(key.namespace_);
    return h ^ (std::hash<std::string>{}(key.name) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};
