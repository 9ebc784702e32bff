// FakeTransport: an HttpTransport that records requests and answers from a script.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "operator/base/http_transport.h"

namespace portico::testing {

// A scripted answer.
inline HttpResponse httpReply(int status, std::string body, std::vector<HttpHeader> headers) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

class FakeTransport final : public HttpTransport {
public:
  using Responder = std::function<Expected<HttpResponse>(const HttpRequest&)>;

  // Answers the next request (in order); when the script runs out, `fallback` answers.
  void enqueue(Expected<HttpResponse> response) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(response));
  }
  void setFallback(Responder responder) {
    std::lock_guard lock(mutex_);
    fallback_ = std::move(responder);
  }

  Expected<HttpResponse> send(const HttpRequest& request) override {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    if (!script_.empty()) {
      auto next = std::move(script_.front());
      script_.pop_front();
      return next;
    }
    if (fallback_) return fallback_(request);
    return Status(ErrorCode::Unavailable, "no scripted response");
  }

  // Streams the next scripted response's body in `stream_chunks` pieces (or whole).
  Expected<HttpResponse> stream(const HttpRequest& request, const BodySink& sink,
                                CancelSource&) override {
    auto response = send(request);
    if (!response || response->status < 200 || response->status >= 300) return response;
    std::string body = std::move(response->body);
    response->body.clear();
    size_t step = stream_chunk_size ? stream_chunk_size : body.size();
    for (size_t i = 0; i < body.size(); i += step)
      if (!sink(std::string_view(body).substr(i, step))) break;
    return response;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  size_t stream_chunk_size = 0;

private:
  mutable std::mutex mutex_;
  std::deque<Expected<HttpResponse>> script_;
  Responder fallback_;
  std::vector<HttpRequest> requests_;
};

inline HttpResponse jsonResponse(int status, std::string body,
                                 std::vector<HttpHeader> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  r.headers.push_back({"Content-Type", "application/json"});
  return r;
}

}  // namespace portico::testing
