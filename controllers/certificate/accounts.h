// The ACME accounts, one per IngressClassConfig: the account key lives in a Secret (created once,
// ES256, never logged) and the registered client is reused until the server, CA bundle, key or
// email changes. External Account Binding reads its HMAC key from the Secret the config names.
// A client is shared with its transport: a worker's order goes on with the client it was handed
// while a config edit puts a new one in place (the old one ends with its last user).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "acme/client.h"
#include "crds/ingress_class_config.h"
#include "operator/base/thread_annotations.h"
#include "operator/kube/client.h"

namespace portico::controllers::certificate {

class AcmeAccounts {
public:
  AcmeAccounts(kube::KubeClient& client, TransportFactory transport_factory,
               std::string account_namespace);

  // The registered client of the config's account (registers it on first use, and again when
  // the CA says the account does not exist).
  Expected<std::shared_ptr<acme::AcmeClient>> clientFor(const crds::IngressClassConfig& config);

private:
  // A client and the transport it sends through, alive together.
  struct Session {
    std::unique_ptr<HttpTransport> transport;
    std::unique_ptr<acme::AcmeClient> client;
  };
  struct Account {
    std::string fingerprint;  // server + key + CA bundle + email: a change makes a new client
    std::shared_ptr<Session> session;
  };
  kube::KubeClient& client_;
  TransportFactory transport_factory_;
  std::string account_namespace_;  // where default account-key Secrets live
  Mutex mutex_;
  std::map<std::string, Account> accounts_ GUARDED_BY(mutex_);
};

}  // namespace portico::controllers::certificate
