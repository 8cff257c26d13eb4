// Throwaway certificates for TLS tests, made at test time with OpenSSL (nothing committed
// that could expire): a CA, a server certificate it issued for 127.0.0.1 and localhost
// (valid from an hour ago for a day), and a second, unrelated CA and key to get wrong.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace vigil::testing {

struct TestPki {
  std::string ca_file;           // the CA that issued server_cert_file
  std::string server_cert_file;  // CN=vigil-test, SAN IP:127.0.0.1, DNS:localhost
  std::string server_key_file;
  std::string other_ca_file;     // a CA that issued nothing here
  std::string other_key_file;    // a key that matches no certificate here
  std::string client_cert_file;  // issued by ca_file for client authentication
  std::string client_key_file;
};

namespace pki_detail {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

inline void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

inline Key NewKey() {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  Check(key != nullptr, "EC key generation");
  return key;
}

inline void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(extension != nullptr && X509_add_ext(cert, extension, -1) == 1, "an extension");
  X509_EXTENSION_free(extension);
}

// Signed by `issuer_key` as `issuer`, or self-signed when issuer is null.
inline Cert NewCert(const char* common_name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                    long serial, const char* kind) {
  Cert cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (std::string(kind) == "ca") {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else if (std::string(kind) == "server") {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    AddExtension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  } else {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer, NID_ext_key_usage, "clientAuth");
  }
  AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
  Check(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0,
        "signing");
  return cert;
}

inline void WriteCert(const std::string& path, X509* cert) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  Check(file != nullptr && PEM_write_X509(file, cert) == 1, "writing a certificate");
  std::fclose(file);
}

inline void WriteKey(const std::string& path, EVP_PKEY* key) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  Check(file != nullptr &&
            PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "writing a key");
  std::fclose(file);
}

}  // namespace pki_detail

// Writes the files into `dir` (which must exist). Throws when OpenSSL fails.
inline TestPki MakeTestPki(const std::filesystem::path& dir) {
  using namespace pki_detail;
  const auto at = [&](const char* name) { return (dir / name).string(); };
  TestPki pki{at("ca.pem"),    at("server.pem"), at("server.key"), at("other-ca.pem"),
              at("other.key"), at("client.pem"), at("client.key")};
  Key ca_key = NewKey(), server_key = NewKey(), other_key = NewKey(), client_key = NewKey();
  Cert ca = NewCert("vigil test CA", ca_key.get(), nullptr, nullptr, 1, "ca");
  Cert server = NewCert("vigil-test", server_key.get(), ca.get(), ca_key.get(), 2, "server");
  Cert client = NewCert("vigil-client", client_key.get(), ca.get(), ca_key.get(), 3, "client");
  Cert other_ca = NewCert("another CA", other_key.get(), nullptr, nullptr, 4, "ca");
  WriteCert(pki.ca_file, ca.get());
  WriteCert(pki.server_cert_file, server.get());
  WriteKey(pki.server_key_file, server_key.get());
  WriteCert(pki.other_ca_file, other_ca.get());
  WriteKey(pki.other_key_file, other_key.get());
  WriteCert(pki.client_cert_file, client.get());
  WriteKey(pki.client_key_file, client_key.get());
  return pki;
}

}  // namespace vigil::testing
