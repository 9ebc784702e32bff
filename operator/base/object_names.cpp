#include "operator/base/object_names.h"

namespace portico {

namespace {

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool labelBody(std::string_view label, size_t max) {
  if (label.empty() || label.size() > max) return false;
  if (!isAlnum(label.front()) || !isAlnum(label.back())) return false;
  for (char c : label)
    if (!isAlnum(c) && c != '-') return false;
  return true;
}

}  // namespace

bool isDnsLabel(std::string_view name) {
  return labelBody(name, 63);
}

bool isDnsSubdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  while (true) {
    auto dot = name.find('.');
    if (!labelBody(name.substr(0, dot), 253)) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
  }
}

std::optional<std::string> invalidObjectKey(const ObjectKey& key, bool namespaced) {
  if (namespaced && !isDnsLabel(key.namespace_))
    return "metadata.namespace \"" + key.namespace_ +
           "\": must be a DNS label (lower-case letters, digits and '-', at most 63)";
  if (!namespaced && !key.namespace_.empty())
    return "metadata.namespace: a cluster-scoped object has none";
  if (!isDnsSubdomain(key.name))
    return "metadata.name \"" + key.name +
           "\": must be a DNS subdomain (lower-case letters, digits, '-' and '.', at most 253)";
  return std::nullopt;
}

}  // namespace portico
