// CpprestTransport: the HttpTransport implementation over cpprestsdk. cpprestsdk is archived
// upstream, so its headers stay inside cpprest_transport.cpp (they also cost ~12 s per TU).
#pragma once

#include <memory>

#include "operator/base/http_transport.h"

namespace portico::http {

std::unique_ptr<HttpTransport> makeCpprestTransport(TlsSettings tls);

}  // namespace portico::http
