// The status of the IngressClassConfig this process serves (pure):
//   Accepted   True  Valid        the spec is valid and our IngressClass uses it
//              False InvalidSpec  what is wrong, field by field (the last valid spec stays live)
//   Programmed True  Published    the live snapshot carries this generation of the spec
//              False NotPublished still serving an older generation (or none), and why
//              Unknown Pending    no snapshot published yet
#pragma once

#include "controllers/routes/publisher.h"
#include "crds/ingress_class_config.h"

namespace portico::controllers::ingressclassconfig {

crds::IngressClassConfigStatus desiredStatus(const crds::IngressClassConfig& config,
                                             const routes::PublishedRoutes* published,
                                             const std::string& now);

// Whether `observed` already says what `desired` says (transition times aside).
bool sameStatus(const crds::IngressClassConfigStatus& observed,
                const crds::IngressClassConfigStatus& desired);

}  // namespace portico::controllers::ingressclassconfig
