// SecretSource: where the route builder gets TLS Secrets. It says which it wants and uses
// those fetched so far (SecretTracker in the operator; a map in tests).
#pragma once

#include <memory>
#include <set>
#include <vector>

#include "crds/secret.h"
#include "operator/base/object_key.h"

namespace portico::controllers::routes {

class SecretSource {
public:
  virtual ~SecretSource() = default;
  virtual void setWanted(const std::set<ObjectKey>& wanted) = 0;
  virtual bool settled() const = 0;  // every wanted Secret fetched once (found or not)
  virtual std::vector<std::shared_ptr<const crds::Secret>> secrets() const = 0;
};

}  // namespace portico::controllers::routes
