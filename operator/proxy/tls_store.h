// TLS for the data plane: one SSL_CTX per certificate of a RouteTable, chosen by SNI (exact
// name, then wildcard, then the default certificate), TLS 1.2 and 1.3 only, ALPN http/1.1, and
// session tickets encrypted with a process-wide rotating key ring so resumption survives
// snapshot updates (every context shares the keys). Contexts are built off the hot path (by the
// snapshot follower) and cached by certificate, so an unchanged certificate keeps its context.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "operator/base/openssl_ptr.h"
#include "operator/base/thread_annotations.h"
#include "operator/proxy/route_table.h"

namespace portico::proxy {

class TlsStore {
public:
  // The context a handshake starts with; the SNI callback may switch to another.
  SSL_CTX* acceptContext() const { return accept_.get(); }
  // nullptr when no certificate covers the name and there is no default.
  SSL_CTX* contextFor(std::string_view server_name) const;
  size_t certificateCount() const { return contexts_.size(); }

private:
  friend class TlsStoreBuilder;
  RouteTableConstSharedPtr table_;
  std::vector<std::shared_ptr<SSL_CTX>> contexts_;  // by certificate index of the table
  SslCtxPtr accept_;
};

class TlsStoreBuilder {
public:
  // `offer_h2`: ALPN offers "h2" before "http/1.1" (HTTP/2 to clients that speak it) whatever
  // the table's class says (`portico proxy --http2`).
  explicit TlsStoreBuilder(bool offer_h2 = false) : offer_h2_(offer_h2) {}
  // Builds the store for `table`; certificates that OpenSSL refuses are left out and reported.
  std::shared_ptr<const TlsStore> build(const RouteTableConstSharedPtr& table,
                                        std::vector<std::string>* errors);

private:
  const bool offer_h2_;
  Mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<SSL_CTX>> cache_
      GUARDED_BY(mutex_);  // by certificate + key digest
};

// Session ticket keys (RFC 5077 style, AES-256-CBC + HMAC-SHA256): a current key and the one
// before it, rotated every `period`; a ticket sealed by either still resumes.
void rotateTicketKeysIfDue();

}  // namespace portico::proxy
