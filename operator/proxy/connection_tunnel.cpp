// Connection: a WebSocket tunnel. Once the backend accepts the upgrade (101), the bytes are
// relayed both ways untouched, with the same backpressure as bodies, until either side ends;
// nothing the snapshot does afterwards touches it (the routing was decided at the upgrade).
#include "operator/proxy/connection.h"

#include "operator/proxy/worker.h"

namespace portico::proxy {

void Connection::startTunnel() {
  response_.head_done = true;
  response_.status = 101;
  logAccess(101);  // the request is done: counted and logged as the upgrade
  // A tunnel may live for hours: it must not hold on to the route table it was routed with.
  route_.table.reset();
  route_.backend = nullptr;
  phase_ = Phase::Tunnel;
  client_keep_alive_ = false;
  response_.upstream_reusable = false;
  relayTunnel();  // whatever either side sent right behind the handshake
  if (phase_ == Phase::Tunnel) flushClient();
}

void Connection::relayTunnel() {
  if (!upstream_in_.empty()) {
    client_out_ += upstream_in_;
    upstream_in_.clear();
    if (!flushClient()) return;
  }
  if (!client_in_.empty()) {
    upstream_out_ += client_in_;
    client_in_.clear();
    if (!flushUpstream()) return;
  }
  // Idle for upstream_timeout in both directions ends the tunnel (as nginx's proxy_read_timeout).
  deadline_ = worker_.now() + worker_.settings().upstream_timeout;
}

}  // namespace portico::proxy
