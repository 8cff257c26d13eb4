// The security side of the configuration: http.tls keys and how they depend on each other,
// kafka.properties secrets kept out of DescribeConfig, and unreadable librdkafka files
// reported with the rest of the configuration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/lib/config.h"
#include "tests/testing/temp_dir.h"

namespace vigil::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

Result<Config> Load(std::string_view yaml, const std::vector<std::string>& sets = {}) {
  return ParseConfig("vigil.yaml", yaml, sets, NoEnv);
}

TEST(ConfigSecurityTest, TlsKeysLoadAndTurnTheSchemeToHttps) {
  auto config = Load(
      "http:\n  tls:\n    cert_file: /etc/vigil/tls/vigil.crt\n    key_file: "
      "/etc/vigil/tls/vigil.key\n    client_ca_file: /etc/vigil/tls/clients.crt\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http.tls.cert_file, "/etc/vigil/tls/vigil.crt");
  EXPECT_EQ(config->http.tls.key_file, "/etc/vigil/tls/vigil.key");
  EXPECT_EQ(config->http.tls.client_ca_file, "/etc/vigil/tls/clients.crt");
  EXPECT_EQ(config->http.scheme(), "https");
  EXPECT_THAT(DescribeConfig(*config), HasSubstr("http.tls.cert_file: /etc/vigil/tls/vigil.crt\n"));
  EXPECT_EQ(Load("")->http.scheme(), "http");
}

TEST(ConfigSecurityTest, TlsNeedsBothFilesAndAClientCaNeedsThem) {
  auto config = Load("http:\n  tls:\n    cert_file: c.pem\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "vigil.yaml:3:16: http.tls.cert_file: needs http.tls.key_file too (the certificate's "
            "private key)");
  config = Load("", {"http.tls.key_file=k.pem"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "--set http.tls.key_file: needs http.tls.cert_file too (the certificate of the key)");
  config = Load("", {"http.tls.client_ca_file=ca.pem"});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message,
              HasSubstr("--set http.tls.client_ca_file: needs http.tls.cert_file and "
                        "http.tls.key_file"));
}

TEST(ConfigSecurityTest, KafkaSecretsAreMaskedInDescribeConfig) {
  auto config = Load(R"(kafka:
  properties:
    security.protocol: SASL_SSL
    sasl.mechanisms: PLAIN
    sasl.username: vigil
    sasl.password: pw-sasl
    ssl.key.password: pw-key
    ssl.key.pem: "-----BEGIN PRIVATE KEY-----"
    ssl.keystore.password: pw-store
    ssl.endpoint.identification.algorithm: https
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const std::string described = DescribeConfig(*config);
  for (const char* secret : {"pw-sasl", "pw-key", "BEGIN PRIVATE KEY", "pw-store"}) {
    EXPECT_THAT(described, Not(HasSubstr(secret))) << secret;
  }
  EXPECT_THAT(described, HasSubstr("sasl.password: \"****\""));
  EXPECT_THAT(described, HasSubstr("ssl.key.password: \"****\""));
  EXPECT_THAT(described, HasSubstr("ssl.key.pem: \"****\""));
  EXPECT_THAT(described, HasSubstr("ssl.keystore.password: \"****\""));
  // What is not secret stays readable, for support.
  EXPECT_THAT(described, HasSubstr("sasl.username: vigil"));
  EXPECT_THAT(described, HasSubstr("security.protocol: SASL_SSL"));
  EXPECT_THAT(described, HasSubstr("ssl.endpoint.identification.algorithm: https"));
}

TEST(ConfigSecurityTest, AnUnreadableKafkaFileIsNamedWithItsProperty) {
  auto config = Load(
      "kafka:\n  properties:\n    security.protocol: SSL\n    ssl.ca.location: "
      "/nonexistent/kafka-ca.pem\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "vigil.yaml:4:22: kafka.properties.ssl.ca.location: cannot read "
            "/nonexistent/kafka-ca.pem: No such file or directory");
  config = Load("", {"kafka.properties.ssl.key.location=/nonexistent/client.key"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "--set kafka.properties.ssl.key.location: cannot read /nonexistent/client.key: No "
            "such file or directory");
  // librdkafka's own word for "the system's CAs" is not a file.
  EXPECT_TRUE(Load("", {"kafka.properties.ssl.ca.location=probe"}).ok());
  testing::TempDir dir;
  EXPECT_TRUE(Load("", {"kafka.properties.ssl.ca.location=" + dir.path().string()}).ok());
}

TEST(ConfigSecurityTest, ABadKafkaValueFailsWithLibrdkafkasReason) {
  auto config = Load("", {"kafka.properties.ssl.endpoint.identification.algorithm=maybe"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "--set kafka.properties.ssl.endpoint.identification.algorithm: librdkafka rejects it: "
            "Invalid value \"maybe\" for configuration property "
            "\"ssl.endpoint.identification.algorithm\"");
}

}  // namespace
}  // namespace vigil::daemon
