// The unit tests' API server is the in-memory one `portico local` runs on.
#pragma once

#include "operator/local/memory_client.h"

namespace portico::testing {
using FakeKubeClient = local::MemoryKubeClient;
}  // namespace portico::testing
