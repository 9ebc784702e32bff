// HttpTransport: the one seam over the HTTP client library (cpprestsdk today). The Kubernetes
// client and the ACME client speak HTTP only through this interface, so the library can be
// replaced in one file and tests can substitute a fake.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/cancel.h"
#include "operator/base/status.h"

namespace portico {

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: https://host:port/path?query
  std::vector<HttpHeader> headers;
  std::string body;
  // Whole-request deadline for send(); for stream(), the longest silence tolerated between bytes.
  std::chrono::milliseconds timeout{30000};
};

struct HttpResponse {
  int status = 0;
  std::vector<HttpHeader> headers;
  std::string body;

  // Case-insensitive header lookup (RFC 9110 §5.1); empty when absent.
  std::string header(std::string_view name) const;
};

// Called with each piece of a streamed 2xx response body as it arrives; return false to stop.
using BodySink = std::function<bool(std::string_view data)>;

class HttpTransport {
public:
  virtual ~HttpTransport() = default;

  // Sends a request and reads the whole response. Connection failures and timeouts are errors
  // (Unavailable/Timeout); any HTTP status is a value.
  virtual Expected<HttpResponse> send(const HttpRequest& request) = 0;

  // Sends a request and streams a 2xx response body into `sink` until the server ends it, the
  // sink returns false, or `cancel` fires (then the error is Cancelled). For a non-2xx status,
  // the body is collected into the returned response instead.
  virtual Expected<HttpResponse> stream(const HttpRequest& request, const BodySink& sink,
                                        CancelSource& cancel) = 0;
};

// TLS settings for a transport (PEM text, never file paths: callers load files).
struct TlsSettings {
  std::string ca_pem;  // trusted roots; empty means the system store
  std::string client_cert_pem;
  std::string client_key_pem;  // never logged
  bool insecure_skip_verify = false;
};

// Makes a transport for TLS settings: how the Kubernetes client and the ACME client get theirs
// without depending on the HTTP library (operator/http provides the real one).
using TransportFactory = std::function<std::unique_ptr<HttpTransport>(const TlsSettings&)>;

}  // namespace portico
