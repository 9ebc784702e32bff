// Which Ingresses Portico serves (pure). In order:
//  1. spec.ingressClassName names an IngressClass whose spec.controller is ours;
//  2. else the legacy annotation kubernetes.io/ingress.class names such a class;
//  3. else (no class at all) one of our classes is marked the default
//     (ingressclass.kubernetes.io/is-default-class: "true").
// Ingresses of other classes are not ours: we neither route them nor touch their status.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crds/ingress.h"

namespace portico::controllers::selection {

inline constexpr const char* kLegacyClassAnnotation = "kubernetes.io/ingress.class";

// The name of our IngressClass that serves `ingress`, or nullopt if it is not ours.
std::optional<std::string> servingClass(
    const crds::Ingress& ingress,
    const std::vector<std::shared_ptr<const crds::IngressClass>>& classes,
    const std::string& controller = crds::kPorticoController);

}  // namespace portico::controllers::selection
