#include "operator/http/cpprest_transport.h"

#include <cpprest/http_client.h>

#include <map>
#include <optional>

#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"

namespace portico::http {
namespace {

namespace wh = web::http;
namespace whc = web::http::client;

// Splits "https://host:port/path?q" into the origin cpprest binds a client to and the rest.
bool splitUrl(const std::string& url, std::string& origin, std::string& path_and_query) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  auto path_start = url.find('/', scheme_end + 3);
  if (path_start == std::string::npos) {
    origin = url;
    path_and_query = "/";
  } else {
    origin = url.substr(0, path_start);
    path_and_query = url.substr(path_start);
  }
  return true;
}

Status transportError(const std::string& url, const std::exception& e) {
  // cpprest reports a server that went away with misleading codes (1, 113, ...): every failure
  // here is "the connection is lost" and the caller may retry.
  std::string what = e.what();
  if (auto* he = dynamic_cast<const wh::http_exception*>(&e)) {
    auto code = he->error_code().value();
    if (code == 110 /* ETIMEDOUT */ || what.find("timed out") != std::string::npos)
      return Status(ErrorCode::Timeout, url + ": " + what);
    if (code == 125 /* ECANCELED */) return Status(ErrorCode::Cancelled, url + ": cancelled");
  }
  return Status(ErrorCode::Unavailable, url + ": " + what);
}

class CpprestTransport final : public HttpTransport {
public:
  explicit CpprestTransport(TlsSettings tls) : tls_(std::move(tls)) {}

  Expected<HttpResponse> send(const HttpRequest& request) override {
    std::string origin, rest;
    if (!splitUrl(request.url, origin, rest))
      return Status(ErrorCode::InvalidArgument, "not an absolute URL: " + request.url);
    try {
      auto client = pooledClient(origin, request.timeout);
      auto response = client->request(toCpprest(request, rest)).get();
      return fromCpprest(response, /*read_body=*/true);
    } catch (const std::exception& e) {
      return transportError(request.url, e);
    }
  }

  Expected<HttpResponse> stream(const HttpRequest& request, const BodySink& sink,
                                CancelSource& cancel) override {
    std::string origin, rest;
    if (!splitUrl(request.url, origin, rest))
      return Status(ErrorCode::InvalidArgument, "not an absolute URL: " + request.url);
    if (cancel.cancelled()) return Status(ErrorCode::Cancelled, "cancelled");
    // A stream gets a client of its own: cpprest's timeout is an idle timer per client.
    // Cancelling both cancels the request's token and closes the body's read side, so a reader
    // blocked on a quiet stream wakes up whatever state the connection is in.
    pplx::cancellation_token_source token_source;
    struct BodyHandle {
      Mutex mutex;
      std::optional<concurrency::streams::streambuf<uint8_t>> buffer GUARDED_BY(mutex);
    };
    auto body = std::make_shared<BodyHandle>();
    CancelRegistration registration(cancel, [&token_source, body] {
      try {
        token_source.cancel();
      } catch (...) {  // the socket may already be gone
      }
      MutexLock lock(body->mutex);
      try {
        if (body->buffer) body->buffer->close(std::ios_base::in).wait();
      } catch (...) {
      }
    });
    try {
      whc::http_client client(utility::conversions::to_string_t(origin),
                              makeConfig(request.timeout));
      auto response = client.request(toCpprest(request, rest), token_source.get_token()).get();
      if (response.status_code() < 200 || response.status_code() >= 300)
        return fromCpprest(response, /*read_body=*/true);
      HttpResponse head = fromCpprest(response, /*read_body=*/false);
      auto buffer = response.body().streambuf();
      {
        MutexLock lock(body->mutex);
        body->buffer = buffer;
      }
      if (cancel.cancelled()) return Status(ErrorCode::Cancelled, "cancelled");
      std::string chunk;
      // bumpc() returns as soon as one byte is there; then drain what is buffered. (getn(buf, N)
      // would wait for N bytes and deliver watch events seconds late.)
      while (true) {
        auto c = buffer.bumpc().get();
        if (c == std::char_traits<char>::eof()) break;
        chunk.assign(1, static_cast<char>(c));
        size_t available = buffer.in_avail();
        if (available > 0) {
          size_t old = chunk.size();
          chunk.resize(old + available);
          // getn of what is already buffered returns at once.
          size_t got = buffer.getn(reinterpret_cast<uint8_t*>(chunk.data() + old), available).get();
          chunk.resize(old + got);
        }
        if (!sink(chunk)) break;
        if (cancel.cancelled()) return Status(ErrorCode::Cancelled, "cancelled");
      }
      if (cancel.cancelled()) return Status(ErrorCode::Cancelled, "cancelled");
      return head;
    } catch (const pplx::task_canceled&) {
      return Status(ErrorCode::Cancelled, "cancelled");
    } catch (const std::exception& e) {
      if (cancel.cancelled()) return Status(ErrorCode::Cancelled, "cancelled");
      return transportError(request.url, e);
    }
  }

private:
  whc::http_client_config makeConfig(std::chrono::milliseconds timeout) const {
    whc::http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    config.set_validate_certificates(!tls_.insecure_skip_verify);
    TlsSettings tls = tls_;
    config.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) {
      try {
        if (!tls.ca_pem.empty())
          ctx.add_certificate_authority(boost::asio::buffer(tls.ca_pem.data(), tls.ca_pem.size()));
        if (!tls.client_cert_pem.empty())
          ctx.use_certificate_chain(
              boost::asio::buffer(tls.client_cert_pem.data(), tls.client_cert_pem.size()));
        if (!tls.client_key_pem.empty())
          ctx.use_private_key(
              boost::asio::buffer(tls.client_key_pem.data(), tls.client_key_pem.size()),
              boost::asio::ssl::context::pem);
      } catch (const std::exception& e) {
        log::error("TLS settings rejected", {{"error", e.what()}});
      }
    });
    return config;
  }

  std::shared_ptr<whc::http_client> pooledClient(const std::string& origin,
                                                 std::chrono::milliseconds timeout) {
    MutexLock lock(mutex_);
    auto key = origin + "#" + std::to_string(timeout.count());
    auto it = clients_.find(key);
    if (it == clients_.end()) {
      auto client = std::make_shared<whc::http_client>(utility::conversions::to_string_t(origin),
                                                       makeConfig(timeout));
      it = clients_.emplace(key, std::move(client)).first;
    }
    return it->second;
  }

  static wh::http_request toCpprest(const HttpRequest& request, const std::string& path) {
    wh::http_request msg(utility::conversions::to_string_t(request.method));
    msg.set_request_uri(utility::conversions::to_string_t(path));
    std::string content_type;
    for (const auto& h : request.headers) {
      if (strcasecmp(h.name.c_str(), "Content-Type") == 0)
        content_type = h.value;
      else
        msg.headers().add(h.name, h.value);
    }
    if (!request.body.empty() || !content_type.empty()) {
      std::vector<unsigned char> bytes(request.body.begin(), request.body.end());
      msg.set_body(std::move(bytes));
      msg.headers().set_content_type(content_type.empty() ? "application/octet-stream"
                                                          : content_type);
    }
    return msg;
  }

  static HttpResponse fromCpprest(wh::http_response& response, bool read_body) {
    HttpResponse out;
    out.status = response.status_code();
    for (const auto& [name, value] : response.headers()) out.headers.push_back({name, value});
    if (read_body) {
      auto bytes = response.extract_vector().get();
      out.body.assign(bytes.begin(), bytes.end());
    }
    return out;
  }

  TlsSettings tls_;
  Mutex mutex_;
  std::map<std::string, std::shared_ptr<whc::http_client>> clients_ GUARDED_BY(mutex_);
};

}  // namespace

std::unique_ptr<HttpTransport> makeCpprestTransport(TlsSettings tls) {
  return std::make_unique<CpprestTransport>(std::move(tls));
}

}  // namespace portico::http
