// The class-level settings an IngressClassConfig puts into the route inputs (listeners, TLS
// policy, HSTS, proxy limits, default certificate, redirect default). Without a config the
// built-in defaults of RouteInputs stay.
#pragma once

#include "controllers/routes/compile.h"
#include "crds/ingress_class_config.h"

namespace portico::controllers::routes {

void applyClassSettings(const crds::IngressClassConfigSpec& spec, RouteInputs& inputs);

}  // namespace portico::controllers::routes
