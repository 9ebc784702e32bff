// Kubernetes errors: an HTTP status plus a metav1.Status body {reason, message, code} become a
// typed Status (NotFound, Conflict, Gone, ...), keeping the server's reason and message.
#pragma once

#include <string>

#include "operator/base/status.h"

namespace portico::kube {

ErrorCode errorCodeForHttp(int http_status, const std::string& reason);

// `body` is the response body (normally a JSON metav1.Status; anything else is kept as text).
Status statusFromApi(int http_status, const std::string& body);

}  // namespace portico::kube
