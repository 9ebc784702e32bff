#include "controllers/certificate/accounts.h"

#include "controllers/certificate/secrets.h"
#include "operator/base/base64.h"
#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"

namespace portico::controllers::certificate {

AcmeAccounts::AcmeAccounts(kube::KubeClient& client, TransportFactory transport_factory,
                           std::string account_namespace)
    : client_(client),
      transport_factory_(std::move(transport_factory)),
      account_namespace_(std::move(account_namespace)) {}

Expected<std::shared_ptr<acme::AcmeClient>> AcmeAccounts::clientFor(
    const crds::IngressClassConfig& config) {
  const auto& settings = *config.spec.acme;
  ObjectKey key_ref = settings.account_key_secret.value_or(
      ObjectKey{account_namespace_, "portico-acme-" + config.metadata.name});
  auto secret = getSecret(client_, key_ref);
  if (!secret) return secret.error();
  std::string key_pem;
  if (*secret && (*secret)->find("tls.key")) {
    key_pem = *(*secret)->find("tls.key");
  } else {
    // First use: a new ES256 account key, kept in the Secret so the account is created once.
    auto generated = acme::generateAccountKey();
    if (!generated) return generated.error();
    key_pem = acme::privateKeyPem(generated->key.get());
    crds::Secret account;
    account.metadata.name = key_ref.name;
    account.metadata.namespace_ = key_ref.namespace_;
    account.type = "Opaque";
    account.metadata.annotations[kAcmeAccountAnnotation] = config.metadata.name;
    account.data["tls.key"] = key_pem;
    if (Status st = putSecret(client_, account); !st) return st;
    log::info("ACME account key created", {{"secret", key_ref.toString()}});
  }
  const std::string fingerprint =
      settings.server + "\n" + settings.ca_bundle + "\n" + key_pem + "\n" + settings.email;
  // The client shares ownership of its session: the map slot may be replaced (a config edit)
  // while another worker still uses the old client.
  auto shared = [](const std::shared_ptr<Session>& session) {
    return std::shared_ptr<acme::AcmeClient>(session, session->client.get());
  };
  MutexLock lock(mutex_);
  Account& account = accounts_[config.metadata.name];
  if (account.session && account.fingerprint == fingerprint &&
      !account.session->client->accountLost())
    return shared(account.session);

  auto key = acme::accountKeyFromPem(key_pem);
  if (!key) return key.error();
  TlsSettings tls;
  if (!settings.ca_bundle.empty()) {
    auto pem = base64Decode(settings.ca_bundle);
    if (!pem) return Status(ErrorCode::InvalidArgument, "spec.acme.caBundle is not base64");
    tls.ca_pem = *pem;
  }
  auto session = std::make_shared<Session>();
  session->transport = transport_factory_(tls);
  session->client =
      std::make_unique<acme::AcmeClient>(*session->transport, settings.server, std::move(*key));
  acme::NewAccountRequest request;
  request.email = settings.email;
  if (settings.external_account_binding) {
    const auto& eab = *settings.external_account_binding;
    auto hmac_secret = getSecret(client_, eab.key_secret.secret);
    if (!hmac_secret) return hmac_secret.error();
    if (!*hmac_secret || !(*hmac_secret)->find(eab.key_secret.key))
      return Status(ErrorCode::NotFound, "EAB key Secret " + eab.key_secret.secret.toString() +
                                             " lacks key " + eab.key_secret.key);
    request.eab = acme::ExternalAccountKey{eab.key_id, *(*hmac_secret)->find(eab.key_secret.key)};
  }
  // Finds the existing account for this key, or registers it (once).
  auto registered = session->client->account(request);
  if (!registered) {
    account.session.reset();  // users of the old client keep it until they are done
    return registered.error();
  }
  account.session = session;
  account.fingerprint = fingerprint;
  log::info("ACME account ready", {{"config", config.metadata.name}, {"account", registered->url}});
  return shared(session);
}

}  // namespace portico::controllers::certificate
