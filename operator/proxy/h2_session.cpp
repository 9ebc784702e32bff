#include "operator/proxy/h2_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace portico::proxy::h2 {

namespace {

std::string_view view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

nghttp2_nv headerPair(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

// A response head as nghttp2 takes it: :status, then the fields (viewed, copied on submit).
struct ResponseHeaders {
  char status_text[4];
  std::vector<nghttp2_nv> nva;
  ResponseHeaders(int status, const Fields& fields) {
    std::snprintf(status_text, sizeof status_text, "%03d", status);
    nva.reserve(fields.size() + 1);
    nva.push_back(headerPair(":status", std::string_view(status_text, 3)));
    for (const Field& field : fields) nva.push_back(headerPair(field.name, field.value));
  }
  ResponseHeaders(const ResponseHeaders&) = delete;
  ResponseHeaders& operator=(const ResponseHeaders&) = delete;
};

// Frames whose only cost is the work of answering them: counted against the flood budget.
bool isControlFrame(uint8_t type) {
  return type == NGHTTP2_SETTINGS || type == NGHTTP2_PING || type == NGHTTP2_PRIORITY;
}

}  // namespace

const char* defenceName(Defence defence) {
  switch (defence) {
    case Defence::RapidReset: return "rapid_reset";
    case Defence::ContinuationFlood: return "continuation_flood";
    case Defence::HeaderListTooLarge: return "header_list_too_large";
    case Defence::ControlFrameFlood: return "control_frame_flood";
    case Defence::EmptyFrameFlood: return "empty_frame_flood";
    case Defence::StreamRefused: return "stream_refused";
  }
  return "unknown";
}

// nghttp2's C callbacks, forwarding to the session (user_data).
struct Callbacks {
  static ServerSession& self(void* user_data) { return *static_cast<ServerSession*>(user_data); }

  static int onBeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user_data) {
    ServerSession& s = self(user_data);
    if (s.failed_) return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (isControlFrame(hd->type) && !s.controlFrame(s.now_)) return NGHTTP2_ERR_CALLBACK_FAILURE;
    // Frames that carry nothing and end nothing cost work for no progress.
    const bool empty = hd->length == 0 && !(hd->flags & NGHTTP2_FLAG_END_STREAM) &&
                       (hd->type == NGHTTP2_DATA || hd->type == NGHTTP2_CONTINUATION);
    if (empty) {
      if (++s.empty_frames_in_a_row_ > s.limits_.max_empty_frames) {
        s.trip(Defence::EmptyFrameFlood);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
    } else if (hd->length > 0) {
      s.empty_frames_in_a_row_ = 0;
    }
    if (hd->type == NGHTTP2_CONTINUATION) {
      if (ServerSession::Stream* stream = s.find(hd->stream_id);
          stream && ++stream->continuations > s.limits_.max_continuations) {
        s.trip(Defence::ContinuationFlood);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
    }
    return 0;
  }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ServerSession& s = self(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      s.streams_.try_emplace(frame->hd.stream_id);
      ++s.streams_opened_;
      SessionCounters::bump(s.counters_.streams_opened);
      return 0;
    }
    if (ServerSession::Stream* stream = s.find(frame->hd.stream_id)) {  // trailers
      stream->header_bytes = 0;
      stream->header_fields = 0;
      stream->continuations = 0;
    }
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name_data,
                      size_t name_size, const uint8_t* value_data, size_t value_size, uint8_t,
                      void* user_data) {
    ServerSession& s = self(user_data);
    ServerSession::Stream* stream = s.find(frame->hd.stream_id);
    if (!stream || stream->oversized) return 0;
    // RFC 9113 §6.5.2: the size of a field is its name and value plus 32 octets.
    stream->header_bytes += name_size + value_size + 32;
    if (stream->header_bytes > s.limits_.max_header_list_bytes ||
        ++stream->header_fields > s.limits_.max_header_fields) {
      stream->oversized = true;  // answered 431 once the block ends; nothing more is kept
      return 0;
    }
    std::string_view name = view(name_data, name_size);
    std::string_view value = view(value_data, value_size);
    if (stream->head_done) {  // trailers
      stream->trailers.push_back({std::string(name), std::string(value)});
      return 0;
    }
    RequestHead& head = stream->head;
    if (name == ":method")
      head.method = value;
    else if (name == ":scheme")
      head.scheme = value;
    else if (name == ":authority")
      head.authority = value;
    else if (name == ":path")
      head.path = value;
    else if (!name.empty() && name.front() == ':')
      return 0;  // nghttp2 has refused every other pseudo-field already
    else if (name == "host") {
      // RFC 9113 §8.3.1: :authority wins; Host stands in only when it is absent.
      if (head.authority.empty()) head.authority = value;
    } else {
      if (name == "content-length") {
        uint64_t length = 0;
        auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
        if (error == std::errc() && end == value.data() + value.size())
          head.content_length = length;
      }
      head.fields.push_back({std::string(name), std::string(value)});
    }
    return 0;
  }

  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ServerSession& s = self(user_data);
    const int32_t id = frame->hd.stream_id;
    const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        ServerSession::Stream* stream = s.find(id);
        if (!stream || !(frame->hd.flags & NGHTTP2_FLAG_END_HEADERS)) return 0;
        if (stream->oversized) {
          SessionCounters::bump(
              s.counters_.defences[static_cast<size_t>(Defence::HeaderListTooLarge)]);
          stream->oversized = false;
          stream->head_done = true;
          stream->announced = false;
          s.respond(id, 431, {}, true);
          return 0;
        }
        if (!stream->head_done) {
          stream->head_done = true;
          stream->announced = true;
          s.handler_.onRequestHead(id, std::move(stream->head), end_stream);
          if (end_stream && (stream = s.find(id)) && stream->announced)
            s.handler_.onRequestEnd(id, {});
        } else if (end_stream && stream->announced) {
          s.handler_.onRequestEnd(id, std::move(stream->trailers));
        }
        return 0;
      }
      case NGHTTP2_DATA: {
        ServerSession::Stream* stream = s.find(id);
        if (end_stream && stream && stream->announced) s.handler_.onRequestEnd(id, {});
        return 0;
      }
      case NGHTTP2_GOAWAY: SessionCounters::bump(s.counters_.goaways_received); return 0;
      case NGHTTP2_RST_STREAM: {
        SessionCounters::bump(s.counters_.resets_received);
        ServerSession::Stream* stream = s.find(id);
        if (stream && !stream->response_done) ++s.premature_resets_;
        // CVE-2023-44487: a client that cancels most of what it opens only makes work.
        if (s.streams_opened_ >= s.limits_.rapid_reset_min_streams &&
            s.premature_resets_ * 2 > s.streams_opened_)
          s.trip(Defence::RapidReset);
        return 0;
      }
      default: return 0;
    }
  }

  static int onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                         size_t size, void* user_data) {
    ServerSession& s = self(user_data);
    ServerSession::Stream* stream = s.find(id);
    if (!stream || !stream->announced) {
      nghttp2_session_consume(session, id, size);  // nobody will: give the window back now
      return 0;
    }
    stream->unconsumed += size;
    s.handler_.onRequestData(id, view(data, size));
    return 0;
  }

  static int onStreamClose(nghttp2_session* session, int32_t id, uint32_t error_code,
                           void* user_data) {
    ServerSession& s = self(user_data);
    auto it = s.streams_.find(id);
    if (it == s.streams_.end()) return 0;
    // Body bytes never passed on still count against the connection's window.
    if (it->second.unconsumed > 0)
      nghttp2_session_consume_connection(session, it->second.unconsumed);
    const bool announced = it->second.announced;
    s.streams_.erase(it);
    if (announced) s.handler_.onStreamClosed(id, error_code);
    return 0;
  }

  static int onFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    SessionCounters& counters = self(user_data).counters_;
    if (frame->hd.type == NGHTTP2_GOAWAY) SessionCounters::bump(counters.goaways_sent);
    if (frame->hd.type != NGHTTP2_RST_STREAM) return 0;
    SessionCounters::bump(counters.resets_sent);
    if (frame->rst_stream.error_code == NGHTTP2_REFUSED_STREAM)
      SessionCounters::bump(counters.defences[static_cast<size_t>(Defence::StreamRefused)]);
    return 0;
  }

  static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buffer, size_t length,
                          uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    ServerSession& s = self(user_data);
    ServerSession::Stream* stream = s.find(id);
    if (!stream) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const size_t available = stream->out.size() - stream->out_sent;
    const size_t n = std::min(length, available);
    std::memcpy(buffer, stream->out.data() + stream->out_sent, n);
    stream->out_sent += n;
    if (stream->out_sent == stream->out.size()) {
      stream->out.clear();
      stream->out_sent = 0;
    }
    if (n == 0 && !stream->out_end) {
      stream->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    if (stream->out_end && stream->out.empty()) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!stream->out_trailers.empty()) {
        // The trailers end the stream (RFC 9113 §8.1), not the last DATA frame.
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        std::vector<nghttp2_nv> nva;
        nva.reserve(stream->out_trailers.size());
        for (const Field& field : stream->out_trailers)
          nva.push_back(headerPair(field.name, field.value));
        if (nghttp2_submit_trailer(session, id, nva.data(), nva.size()) != 0)
          return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      }
    }
    return static_cast<ssize_t>(n);
  }
};

ServerSession::ServerSession(SessionHandler& handler, const SessionLimits& limits,
                             SessionCounters& counters)
    : handler_(handler), limits_(limits), counters_(counters) {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return;
  nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, Callbacks::onBeginFrame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Callbacks::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Callbacks::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Callbacks::onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Callbacks::onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Callbacks::onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, Callbacks::onFrameSend);
  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return;
  }
  // Request body is acknowledged only when passed on (see consumed()).
  nghttp2_option_set_no_auto_window_update(option, 1);
  // nghttp2's own CONTINUATION limit stays as a backstop behind the counted one.
  nghttp2_option_set_max_continuations(option, limits_.max_continuations + 1);
  if (nghttp2_session_server_new2(&session_, callbacks, this, option) != 0) session_ = nullptr;
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (!session_) return;

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits_.initial_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(limits_.max_header_list_bytes)},
  };
  // The connection window holds four streams' worth: one slow stream cannot stall the rest.
  const auto connection_window =
      static_cast<int32_t>(std::min<uint64_t>(4ull * limits_.initial_window, INT32_MAX));
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0 ||
      nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, connection_window) !=
          0) {
    nghttp2_session_del(session_);
    session_ = nullptr;
  }
}

ServerSession::~ServerSession() {
  if (session_) nghttp2_session_del(session_);
}

ServerSession::Stream* ServerSession::find(int32_t stream) {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : &it->second;
}

const ServerSession::Stream* ServerSession::find(int32_t stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : &it->second;
}

void ServerSession::trip(Defence defence) {
  if (failed_) return;
  SessionCounters::bump(counters_.defences[static_cast<size_t>(defence)]);
  failed_ = true;
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
}

bool ServerSession::controlFrame(Clock::MonoTime now) {
  if (now - control_window_start_ >= std::chrono::seconds(1)) {
    control_window_start_ = now;
    control_frames_in_window_ = 0;
  }
  if (++control_frames_in_window_ > limits_.control_frames_per_second) {
    trip(Defence::ControlFrameFlood);
    return false;
  }
  return true;
}

bool ServerSession::receive(std::string_view bytes, Clock::MonoTime now) {
  if (!session_ || failed_) return false;
  now_ = now;
  const ssize_t result = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (result < 0) {
    // A protocol error nghttp2 has already answered with GOAWAY, a bad preface, or a defence.
    if (!failed_ && result != NGHTTP2_ERR_BAD_CLIENT_MAGIC)
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    failed_ = true;
    return false;
  }
  return !failed_;
}

void ServerSession::produce(std::string& out, size_t max_bytes) {
  if (!session_) return;
  while (out.size() < max_bytes) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) {
      if (n < 0) failed_ = true;
      return;
    }
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

bool ServerSession::wantsRead() const {
  return session_ && !failed_ && nghttp2_session_want_read(session_) != 0;
}

bool ServerSession::wantsWrite() const {
  return session_ && nghttp2_session_want_write(session_) != 0;
}

bool ServerSession::respond(int32_t id, int status, const Fields& fields, bool end_stream) {
  Stream* stream = find(id);
  if (!stream || stream->response_started) return false;
  const ResponseHeaders head(status, fields);
  const std::vector<nghttp2_nv>& nva = head.nva;
  nghttp2_data_provider provider{};
  provider.read_callback = Callbacks::readBody;
  if (nghttp2_submit_response(session_, id, nva.data(), nva.size(),
                              end_stream ? nullptr : &provider) != 0)
    return false;
  stream->response_started = true;
  stream->response_done = end_stream;
  return true;
}

bool ServerSession::sendInterim(int32_t id, int status, const Fields& fields) {
  Stream* stream = find(id);
  if (!stream || stream->response_started || status < 100 || status > 199) return false;
  const ResponseHeaders head(status, fields);
  return nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, id, nullptr, head.nva.data(),
                                head.nva.size(), nullptr) >= 0;
}

void ServerSession::resumeIfDeferred(int32_t id, Stream& stream) {
  if (!stream.deferred) return;
  stream.deferred = false;
  nghttp2_session_resume_data(session_, id);
}

void ServerSession::sendData(int32_t id, std::string_view data) {
  Stream* stream = find(id);
  if (!stream || stream->out_end || data.empty()) return;
  stream->out.append(data);
  resumeIfDeferred(id, *stream);
}

void ServerSession::endResponse(int32_t id, Fields trailers) {
  Stream* stream = find(id);
  if (!stream || stream->out_end) return;
  stream->out_end = true;
  stream->out_trailers = std::move(trailers);
  stream->response_done = true;
  resumeIfDeferred(id, *stream);
}

void ServerSession::resetStream(int32_t id, uint32_t error_code) {
  if (!session_) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error_code);
}

void ServerSession::consumed(int32_t id, size_t bytes) {
  Stream* stream = find(id);
  if (!stream) return;
  bytes = std::min(bytes, stream->unconsumed);
  stream->unconsumed -= bytes;
  nghttp2_session_consume(session_, id, bytes);
}

void ServerSession::shutdown() {
  if (!session_) return;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

size_t ServerSession::bufferedResponseBytes(int32_t id) const {
  const Stream* stream = find(id);
  return stream ? stream->out.size() - stream->out_sent : 0;
}

}  // namespace portico::proxy::h2
