// The HTTP server with a certificate: HTTPS with the same limits as plain HTTP, clear
// refusals of bad TLS files at Start, and failed handshakes that never stop the server.
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/lib/http_server.h"
#include "tests/testing/http_client.h"
#include "tests/testing/https_client.h"
#include "tests/testing/kafka_fixture.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

namespace vigil::daemon {
namespace {

using ::testing::HasSubstr;
using testing::HttpsCall;

class HttpServerTlsTest : public ::testing::Test {
 protected:
  HttpServerTlsTest() : pki_(testing::MakeTestPki(dir_.path())) {}

  HttpServerOptions TlsOptions() const {
    HttpServerOptions options;
    options.port = 0;
    options.tls.cert_file = pki_.server_cert_file;
    options.tls.key_file = pki_.server_key_file;
    return options;
  }

  Status Start(HttpServerOptions options) {
    server_ = std::make_unique<HttpServer>(options);
    server_->Route("GET", "/hello", {Role::kViewer}, [](const HttpRequest&) {
      HttpResponse response;
      response.body = "{\"hello\":\"tls\"}";
      return response;
    });
    server_->Route("POST", "/echo", {Role::kViewer}, [](const HttpRequest& r) {
      HttpResponse response;
      response.body = r.body;
      return response;
    });
    return server_->Start();
  }

  testing::HttpsClientOptions Trusting(const std::string& ca_file) const {
    return {ca_file, "", ""};
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTlsTest, HttpsGetWorksWhenTheCaIsTrusted) {
  ASSERT_TRUE(Start(TlsOptions()).ok());
  EXPECT_TRUE(server_->tls());
  const auto reply = HttpsCall(server_->port(), Trusting(pki_.ca_file), "GET", "/hello");
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(reply.body, "{\"hello\":\"tls\"}");
  EXPECT_EQ(reply.error, "");  // the server answered close_notify
}

TEST_F(HttpServerTlsTest, AnotherCaFailsVerification) {
  ASSERT_TRUE(Start(TlsOptions()).ok());
  const auto reply = HttpsCall(server_->port(), Trusting(pki_.other_ca_file), "GET", "/hello");
  EXPECT_EQ(reply.status, 0);
  EXPECT_THAT(reply.error, HasSubstr("certificate verify failed"));
  EXPECT_TRUE(testing::WaitFor([&] { return server_->tls_handshake_failures() == 1; }));
  EXPECT_EQ(HttpsCall(server_->port(), Trusting(pki_.ca_file), "GET", "/hello").status, 200);
}

TEST_F(HttpServerTlsTest, PlainHttpIsToldToUseHttpsAndTheServerGoesOn) {
  ASSERT_TRUE(Start(TlsOptions()).ok());
  const std::string reply =
      testing::HttpRaw(server_->port(), "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_THAT(reply, ::testing::StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(reply, HasSubstr("This port serves HTTPS only: use https://"));
  EXPECT_THAT(reply, ::testing::Not(HasSubstr("hello")));
  EXPECT_TRUE(testing::WaitFor([&] { return server_->tls_handshake_failures() == 1; }));
  EXPECT_TRUE(testing::WaitFor([&] { return server_->connections() == 0; }));
  const auto https = HttpsCall(server_->port(), Trusting(pki_.ca_file), "GET", "/hello");
  EXPECT_EQ(https.status, 200) << https.error;
}

TEST_F(HttpServerTlsTest, OversizedBodyIs413OverTls) {
  HttpServerOptions options = TlsOptions();
  options.max_body_bytes = 100;
  ASSERT_TRUE(Start(options).ok());
  const auto trusted = Trusting(pki_.ca_file);
  EXPECT_EQ(HttpsCall(server_->port(), trusted, "POST", "/echo", std::string(101, 'x')).status,
            413);
  const auto fits = HttpsCall(server_->port(), trusted, "POST", "/echo", std::string(100, 'x'));
  EXPECT_EQ(fits.status, 200) << fits.error;
  EXPECT_EQ(fits.body, std::string(100, 'x'));
}

TEST_F(HttpServerTlsTest, ASilentClientIsDroppedAfterTheRequestTimeout) {
  HttpServerOptions options = TlsOptions();
  options.request_timeout = std::chrono::milliseconds(200);
  ASSERT_TRUE(Start(options).ok());
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket silent(io);  // connects, never says hello
  silent.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  ASSERT_TRUE(testing::WaitFor([&] { return server_->connections() == 1; }));
  EXPECT_TRUE(
      testing::WaitFor([&] { return server_->connections() == 0; }, std::chrono::seconds(10)));
  EXPECT_EQ(server_->tls_handshake_failures(), 1u);
}

TEST_F(HttpServerTlsTest, ConnectionsOverTheCapGet503OverTls) {
  HttpServerOptions options = TlsOptions();
  options.max_connections = 1;
  ASSERT_TRUE(Start(options).ok());
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket held(io);
  held.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  ASSERT_TRUE(testing::WaitFor([&] { return server_->connections() == 1; }));
  EXPECT_EQ(HttpsCall(server_->port(), Trusting(pki_.ca_file), "GET", "/hello").status, 503);
}

TEST_F(HttpServerTlsTest, AKeyThatDoesNotMatchTheCertificateIsRefusedAtStart) {
  HttpServerOptions options = TlsOptions();
  options.tls.key_file = pki_.other_key_file;
  const Status started = Start(options);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().message,
            "http.tls.key_file " + pki_.other_key_file +
                ": the key does not match the certificate in http.tls.cert_file " +
                pki_.server_cert_file);
}

TEST_F(HttpServerTlsTest, MissingAndMalformedFilesAreAllNamedAtStart) {
  HttpServerOptions options = TlsOptions();
  options.tls.cert_file = (dir_ / "missing.pem").string();
  options.tls.key_file = pki_.ca_file;                // a certificate, not a key
  options.tls.client_ca_file = pki_.server_key_file;  // a key, not certificates
  const Status started = Start(options);
  ASSERT_FALSE(started.ok());
  const std::string& message = started.error().message;
  EXPECT_THAT(message, HasSubstr("http.tls.cert_file " + options.tls.cert_file +
                                 ": cannot read: No such file or directory\n"));
  EXPECT_THAT(message, HasSubstr("http.tls.key_file " + pki_.ca_file +
                                 ": not an unencrypted PEM private key ("));
  EXPECT_THAT(message, HasSubstr("http.tls.client_ca_file " + pki_.server_key_file +
                                 ": not PEM CA certificates ("));
}

TEST_F(HttpServerTlsTest, WithAClientCaOnlyClientsWithACertificateGetIn) {
  HttpServerOptions options = TlsOptions();
  options.tls.client_ca_file = pki_.ca_file;
  ASSERT_TRUE(Start(options).ok());
  const auto anonymous = HttpsCall(server_->port(), Trusting(pki_.ca_file), "GET", "/hello");
  EXPECT_EQ(anonymous.status, 0);
  testing::HttpsClientOptions with_cert{pki_.ca_file, pki_.client_cert_file, pki_.client_key_file};
  const auto reply = HttpsCall(server_->port(), with_cert, "GET", "/hello");
  EXPECT_EQ(reply.status, 200) << reply.error;
}

TEST_F(HttpServerTlsTest, ReloadTlsServesTheNewCertificateAndKeepsTheOldOnAnError) {
  ASSERT_TRUE(Start(TlsOptions()).ok());
  testing::TempDir next_dir("vigil-test-next");
  const testing::TestPki next = testing::MakeTestPki(next_dir.path());

  // A rotation gone wrong (the new certificate, the old key) keeps what works.
  std::filesystem::copy_file(next.server_cert_file, pki_.server_cert_file,
                             std::filesystem::copy_options::overwrite_existing);
  const Status broken = server_->ReloadTls();
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.error().message, HasSubstr("the key does not match the certificate"));
  EXPECT_EQ(HttpsCall(server_->port(), Trusting(pki_.ca_file), "GET", "/hello").status, 200);

  std::filesystem::copy_file(next.server_key_file, pki_.server_key_file,
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(server_->ReloadTls().ok());
  EXPECT_EQ(HttpsCall(server_->port(), Trusting(next.ca_file), "GET", "/hello").status, 200);
  EXPECT_EQ(HttpsCall(server_->port(), Trusting(pki_.ca_file), "GET", "/hello").status, 0);
}

}  // namespace
}  // namespace vigil::daemon
