// Status and Expected<T>: fallible calls return values, never throw across module edges.
// C++20 has no std::expected; this is the small subset we need.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace portico {

enum class ErrorCode {
  Ok = 0,
  InvalidArgument,
  NotFound,
  AlreadyExists,
  Conflict,  // optimistic-concurrency failure (HTTP 409 on update)
  Gone,      // resourceVersion too old (HTTP 410): the caller must relist
  Unauthorized,
  Forbidden,
  Invalid,  // the server rejected the object (HTTP 422)
  TooManyRequests,
  Timeout,
  Unavailable,  // connection failed, server error, server went away
  Cancelled,
  DecodeError,
  Internal,
};

const char* errorCodeName(ErrorCode code);

// [[nodiscard]]: an error that nobody reads is a bug; drop one on purpose with `(void)call()`
// and a comment that says why.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  bool isOk() const { return code_ == ErrorCode::Ok; }
  explicit operator bool() const { return isOk(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: configmaps \"x\" not found"
  std::string toString() const;

  // Optional detail carried by API errors.
  int httpStatus() const { return http_status_; }
  const std::string& reason() const { return reason_; }
  int retryAfterSeconds() const { return retry_after_seconds_; }
  Status& withHttp(int http_status, std::string reason) {
    http_status_ = http_status;
    reason_ = std::move(reason);
    return *this;
  }
  Status& withRetryAfter(int seconds) {
    retry_after_seconds_ = seconds;
    return *this;
  }
  // A terminal error is not retried by the controller (see runtime/reconciler.h).
  bool terminal() const { return terminal_; }
  Status& markTerminal() {
    terminal_ = true;
    return *this;
  }

private:
  ErrorCode code_ = ErrorCode::Ok;
  std::string message_;
  int http_status_ = 0;
  std::string reason_;
  int retry_after_seconds_ = -1;
  bool terminal_ = false;
};

template <typename T>
class [[nodiscard]] Expected {
public:
  Expected(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  Expected(Status error) : data_(std::in_place_index<1>, std::move(error)) {
    assert(!std::get<1>(data_).isOk());
  }

  bool hasValue() const { return data_.index() == 0; }
  explicit operator bool() const { return hasValue(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Status& error() const { return std::get<1>(data_); }
  Status status() const { return hasValue() ? Status::ok() : error(); }

private:
  std::variant<T, Status> data_;
};

}  // namespace portico
