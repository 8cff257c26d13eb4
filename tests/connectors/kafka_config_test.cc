// kafka.properties reach librdkafka as they are; what librdkafka refuses, at configuration
// or when it creates the client (SSL files), comes back as an error naming the property.
#include "connectors/kafka_config.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/kafka_consumer.h"
#include "connectors/kafka_producer.h"
#include "tests/testing/temp_dir.h"

namespace vigil::connectors {
namespace {

using ::testing::HasSubstr;

TEST(KafkaConfigTest, SecurityPropertiesPassThrough) {
  auto conf = MakeKafkaConf({{"client.id", "vigild"}}, {{"security.protocol", "SASL_SSL"},
                                                        {"sasl.mechanisms", "SCRAM-SHA-256"},
                                                        {"sasl.username", "vigil"},
                                                        {"sasl.password", "pw"},
                                                        {"ssl.ca.location", "probe"}});
  ASSERT_TRUE(conf.ok()) << conf.error().message;
  std::string value;
  ASSERT_EQ((*conf)->get("security.protocol", value), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(value, "sasl_ssl");
  ASSERT_EQ((*conf)->get("sasl.mechanisms", value), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(value, "SCRAM-SHA-256");
}

TEST(KafkaConfigTest, ABadValueNamesTheProperty) {
  auto conf = MakeKafkaConf({}, {{"security.protocol", "tls"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_THAT(conf.error().message, HasSubstr("kafka.properties.security.protocol: "));
  EXPECT_THAT(conf.error().message, HasSubstr("\"tls\""));
}

// librdkafka reads the CA file when it creates the client; its reason names the property.
TEST(KafkaConfigTest, ACaFileThatIsNotPemFailsTheClientWithThePropertysName) {
  testing::TempDir dir;
  const std::string ca = (dir / "ca.pem").string();
  std::ofstream(ca) << "not a certificate\n";
  const KafkaProperties ssl = {{"security.protocol", "SSL"}, {"ssl.ca.location", ca}};
  auto producer = KafkaProducer::Create({"127.0.0.1:1", ssl, 1000, "test"});
  ASSERT_FALSE(producer.ok());
  EXPECT_THAT(producer.error().message, HasSubstr("kafka producer: "));
  EXPECT_THAT(producer.error().message, HasSubstr("ssl.ca.location"));
  ConsumerOptions consumer_options;
  consumer_options.brokers = "127.0.0.1:1";
  consumer_options.group_id = "test";
  consumer_options.topic = "posts";
  consumer_options.properties = ssl;
  auto consumer = KafkaConsumer::Create(consumer_options);
  ASSERT_FALSE(consumer.ok());
  EXPECT_THAT(consumer.error().message, HasSubstr("ssl.ca.location"));
}

}  // namespace
}  // namespace vigil::connectors
