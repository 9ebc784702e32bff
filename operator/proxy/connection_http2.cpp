// Connection: the client side after ALPN chose h2. The socket, TLS, backpressure and the
// connection's idle timeout stay here; the streams are the H2Frontend's.
#include "operator/proxy/connection.h"

#include "operator/proxy/worker.h"

namespace portico::proxy {

void Connection::startHttp2() {
  h2_ = std::make_unique<H2Frontend>(worker_, client_ip_, [this] { writeHttp2(); });
  if (!h2_->valid()) {
    close();
    return;
  }
  phase_ = Phase::Http2;
  deadline_ = worker_.now() + worker_.settings().idle_timeout;
  if (worker_.draining()) h2_->shutdown();
}

void Connection::processHttp2() {
  if (!client_in_.empty()) {
    const bool go_on = h2_->receive(client_in_);
    client_in_.clear();
    deadline_ = worker_.now() + worker_.settings().idle_timeout;
    if (!go_on) client_eof_ = true;  // read no more; the GOAWAY goes out, then the connection ends
  }
  writeHttp2();
}

void Connection::writeHttp2() {
  if (phase_ != Phase::Http2) return;
  // Frames are produced only while the client takes them: a slow reader holds the session's
  // output (and, through flow control, the upstreams) back instead of this buffer growing.
  const size_t high_water = worker_.settings().buffer_high_water;
  const size_t pending = client_out_.size() - client_out_sent_;
  if (pending < high_water) h2_->produce(client_out_, client_out_.size() + (high_water - pending));
  if (!flushClient() || phase_ == Phase::Done) return;
  const bool drained = client_out_.size() == client_out_sent_;
  if (drained && (!h2_->wantsRead() || client_eof_) && !h2_->wantsWrite()) {
    close();
    return;
  }
  updateInterest();
}

}  // namespace portico::proxy
