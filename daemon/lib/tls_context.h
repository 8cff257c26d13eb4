// The HTTP listener's TLS settings and the OpenSSL server context built from them.
// Building it checks the files (readable, PEM, the key matches the certificate) and
// reports every problem at once, each naming its config key and file, so vigild and
// `vigild --check` refuse a bad setup before serving.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

namespace boost::asio::ssl {
class context;
}

namespace vigil::daemon {

struct ServerTlsOptions {
  std::string cert_file;       // PEM: the certificate, then any intermediates
  std::string key_file;        // PEM: its private key (unencrypted)
  std::string client_ca_file;  // PEM CAs that client certificates must chain to; empty: none asked

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// TLS 1.2 and 1.3 only, forward-secret AEAD ciphers for TLS 1.2, no compression or
// renegotiation. With client_ca_file, a client without a certificate from one of those
// CAs fails the handshake (mutual TLS). Errors read like
//   http.tls.key_file /etc/vigil/key.pem: the key does not match the certificate in
//   http.tls.cert_file /etc/vigil/cert.pem
// Thread safety: the context may be shared by any number of connections once built.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const ServerTlsOptions& options);

}  // namespace vigil::daemon
