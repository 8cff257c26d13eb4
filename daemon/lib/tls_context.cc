#include "daemon/lib/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/ssl/context.hpp>

namespace vigil::daemon {
namespace {

namespace ssl = boost::asio::ssl;

// Mozilla's "intermediate" TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 keeps
// OpenSSL's defaults, which are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// OpenSSL's last queued reason, e.g. "no start line"; clears the queue.
std::string OpenSslReason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

// The problem with reading `path`, or an empty string.
std::string Unreadable(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return fmt::format("cannot read: {}", std::strerror(errno));
  std::fclose(file);
  return {};
}

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const ServerTlsOptions& options) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                               SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(ctx, kTls12Ciphers);
  ERR_clear_error();

  std::vector<std::string> problems;
  const auto problem = [&](std::string_view key, const std::string& file, std::string_view why) {
    problems.push_back(fmt::format("{} {}: {}", key, file, why));
  };
  if (options.cert_file.empty()) problems.push_back("http.tls.cert_file: required with a key_file");
  if (options.key_file.empty()) problems.push_back("http.tls.key_file: required with a cert_file");

  bool have_cert = false, have_key = false;
  if (!options.cert_file.empty()) {
    if (std::string why = Unreadable(options.cert_file); !why.empty()) {
      problem("http.tls.cert_file", options.cert_file, why);
    } else if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
      problem("http.tls.cert_file", options.cert_file,
              "not a PEM certificate (" + OpenSslReason() + ")");
    } else {
      have_cert = true;
    }
  }
  if (!options.key_file.empty()) {
    if (std::string why = Unreadable(options.key_file); !why.empty()) {
      problem("http.tls.key_file", options.key_file, why);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      // A key that does not match an already loaded certificate fails here too.
      const std::string reason = OpenSslReason();
      problem(
          "http.tls.key_file", options.key_file,
          reason == "key values mismatch"
              ? "the key does not match the certificate in http.tls.cert_file " + options.cert_file
              : "not an unencrypted PEM private key (" + reason + ")");
    } else {
      have_key = true;
    }
  }
  if (have_cert && have_key && SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    problem("http.tls.key_file", options.key_file,
            "the key does not match the certificate in http.tls.cert_file " + options.cert_file);
  }
  if (!options.client_ca_file.empty()) {
    if (std::string why = Unreadable(options.client_ca_file); !why.empty()) {
      problem("http.tls.client_ca_file", options.client_ca_file, why);
    } else if (SSL_CTX_load_verify_locations(ctx, options.client_ca_file.c_str(), nullptr) != 1) {
      problem("http.tls.client_ca_file", options.client_ca_file,
              "not PEM CA certificates (" + OpenSslReason() + ")");
    } else {
      // Tells clients which CAs their certificate must come from.
      SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(options.client_ca_file.c_str()));
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }
  if (!problems.empty()) return Error{fmt::format("{}", fmt::join(problems, "\n"))};

  if (X509* cert = SSL_CTX_get0_certificate(ctx); cert != nullptr) {
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
      spdlog::warn("http.tls.cert_file {}: the certificate has expired; clients will refuse it",
                   options.cert_file);
    }
  }
  return context;
}

}  // namespace vigil::daemon
