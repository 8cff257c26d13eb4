// vigild's configuration: defaults, the file, --set, ${env:NAME}, and every problem
// reported at once with its exact message and location.
#include "daemon/lib/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>

namespace vigil::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Config Parse(std::string_view yaml, const std::vector<std::string>& sets = {},
             const EnvLookup& env = NoEnv) {
  Result<Config> config = ParseConfig("vigil.yaml", yaml, sets, env);
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message);
  return config.ok() ? *config : Config{};
}

// The problems of a config, one per element; empty when it loads.
std::vector<std::string> Problems(std::string_view yaml, const std::vector<std::string>& sets = {},
                                  const EnvLookup& env = NoEnv) {
  Result<Config> config = ParseConfig("vigil.yaml", yaml, sets, env);
  std::vector<std::string> lines;
  if (config.ok()) return lines;
  std::string_view message = config.error().message;
  while (true) {
    const size_t end = message.find('\n');
    lines.emplace_back(message.substr(0, end));
    if (end == std::string_view::npos) break;
    message.remove_prefix(end + 1);
  }
  return lines;
}

std::string Problem(std::string_view yaml) {
  std::vector<std::string> lines = Problems(yaml);
  EXPECT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  return lines.empty() ? "(loads)" : lines.front();
}

std::string SetProblem(const std::string& set) {
  std::vector<std::string> lines = Problems("", {set});
  EXPECT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  return lines.empty() ? "(loads)" : lines.front();
}

TEST(ConfigTest, DefaultsWithNoFileRunTheEmbeddedDemo) {
  Result<Config> loaded = LoadConfig(ConfigSource{}, NoEnv);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const Config& config = *loaded;
  EXPECT_EQ(config, Config{});
  EXPECT_TRUE(config.kafka.embedded());
  EXPECT_EQ(config.kafka.topics.posts, "vigil.posts");
  EXPECT_EQ(config.kafka.topics.hits, "vigil.hits");
  EXPECT_EQ(config.kafka.topics.dlq, "vigil.dlq");
  EXPECT_EQ(config.kafka.group_id, "vigil");
  EXPECT_EQ(config.kafka.embedded_partitions, 3);
  EXPECT_TRUE(config.kafka.properties.empty());
  EXPECT_THAT(config.rules.paths, ElementsAre("rules/packs"));
  EXPECT_EQ(config.rules_cache_dir(), "./vigil-state/hs-cache");
  EXPECT_EQ(config.http.listen(), "127.0.0.1:8080");
  EXPECT_EQ(config.http.max_body_bytes, 16u << 20);
  EXPECT_EQ(config.http.max_connections, 256);
  EXPECT_EQ(config.http.request_timeout, 30s);
  EXPECT_EQ(config.pipeline.workers, 0);
  EXPECT_GE(config.pipeline.worker_count(), 1);
  EXPECT_EQ(config.pipeline.queue_capacity, 4096u);
  EXPECT_EQ(config.pipeline.max_post_bytes, 1u << 20);
  EXPECT_EQ(config.pipeline.max_json_depth, 16);
  EXPECT_EQ(config.state.dir, "./vigil-state");
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.log.format, "text");
  EXPECT_EQ(config.demo.feed, "");
  EXPECT_EQ(config.demo.rate_per_s, 20);
  EXPECT_TRUE(config.demo.loop);
  // An empty file and a file of empty sections are the defaults too.
  EXPECT_EQ(Parse(""), Config{});
  EXPECT_EQ(Parse("kafka:\nhttp:\n"), Config{});
}

TEST(ConfigTest, TheReadmeSetsRunWithNoFile) {
  Result<Config> loaded = LoadConfig({std::nullopt,
                                      {"kafka.brokers=embedded", "rules.paths=rules/packs",
                                       "http.listen=127.0.0.1:8080", "state.dir=/tmp/vigil"}},
                                     NoEnv);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  Config expected;
  expected.state.dir = "/tmp/vigil";
  EXPECT_EQ(*loaded, expected);

  const Config config =
      Parse("", {"kafka.brokers= kafka1:9092, kafka2:9092 ",
                 "rules.paths=rules/packs, /etc/vigil/rules.d,", "http.listen=0.0.0.0:9000",
                 "pipeline.workers=8", "demo.loop=no",
                 "kafka.properties.security.protocol=SASL_SSL", "log.level=\"debug\""});
  EXPECT_EQ(config.kafka.brokers, "kafka1:9092,kafka2:9092");
  EXPECT_FALSE(config.kafka.embedded());
  EXPECT_THAT(config.rules.paths, ElementsAre("rules/packs", "/etc/vigil/rules.d"));
  EXPECT_EQ(config.http.host, "0.0.0.0");
  EXPECT_EQ(config.http.port, 9000);
  EXPECT_EQ(config.pipeline.workers, 8);
  EXPECT_EQ(config.pipeline.worker_count(), 8);
  EXPECT_FALSE(config.demo.loop);
  EXPECT_EQ(config.kafka.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(config.log.level, "debug");
}

TEST(ConfigTest, SetOverridesTheFileAndTheLastSetWins) {
  const Config config = Parse("pipeline:\n  workers: 2\nlog: {level: warn}\n",
                              {"pipeline.workers=4", "pipeline.workers=6"});
  EXPECT_EQ(config.pipeline.workers, 6);
  EXPECT_EQ(config.log.level, "warn");
}

TEST(ConfigTest, AFileWithEveryKey) {
  const Config config = Parse(R"(kafka:
  brokers: "broker-1:9092,broker-2:9092"
  topics:
    posts: in.posts
    hits: out.hits
    dlq: out.dlq
  group_id: vigil-prod
  embedded_partitions: 6
  properties:
    security.protocol: SASL_SSL
    sasl.mechanisms: SCRAM-SHA-512
    sasl.username: vigil
    sasl.password: hunter2
rules:
  paths: [/usr/share/vigil/rules, "/etc/vigil/rules.d"]
  cache_dir: /var/cache/vigil
http:
  listen: "[::1]:8443"
  max_body_bytes: 4MiB
  max_connections: 1000
  request_timeout: 500ms
pipeline:
  workers: 4
  queue_capacity: 10000
  max_post_bytes: 256KiB
  max_json_depth: 32
state:
  dir: /var/lib/vigil
log:
  level: debug
  format: json
demo:
  feed: tests/data/demo_feed.jsonl
  rate_per_s: 2.5
  loop: false
connectors:
  discourse:
    secret: s3cret
    community: forum
)");
  EXPECT_EQ(config.kafka.brokers, "broker-1:9092,broker-2:9092");
  EXPECT_EQ(config.kafka.topics.posts, "in.posts");
  EXPECT_EQ(config.kafka.topics.hits, "out.hits");
  EXPECT_EQ(config.kafka.topics.dlq, "out.dlq");
  EXPECT_EQ(config.kafka.group_id, "vigil-prod");
  EXPECT_EQ(config.kafka.embedded_partitions, 6);
  EXPECT_EQ(config.kafka.properties,
            (std::map<std::string, std::string>{{"security.protocol", "SASL_SSL"},
                                                {"sasl.mechanisms", "SCRAM-SHA-512"},
                                                {"sasl.username", "vigil"},
                                                {"sasl.password", "hunter2"}}));
  EXPECT_THAT(config.rules.paths, ElementsAre("/usr/share/vigil/rules", "/etc/vigil/rules.d"));
  EXPECT_EQ(config.rules.cache_dir, "/var/cache/vigil");
  EXPECT_EQ(config.rules_cache_dir(), "/var/cache/vigil");
  EXPECT_EQ(config.http.host, "::1");
  EXPECT_EQ(config.http.port, 8443);
  EXPECT_EQ(config.http.listen(), "[::1]:8443");
  EXPECT_EQ(config.http.max_body_bytes, 4u << 20);
  EXPECT_EQ(config.http.max_connections, 1000);
  EXPECT_EQ(config.http.request_timeout, 500ms);
  EXPECT_EQ(config.pipeline.workers, 4);
  EXPECT_EQ(config.pipeline.queue_capacity, 10000u);
  EXPECT_EQ(config.pipeline.max_post_bytes, 256u << 10);
  EXPECT_EQ(config.pipeline.max_json_depth, 32);
  EXPECT_EQ(config.state.dir, "/var/lib/vigil");
  EXPECT_EQ(config.log.level, "debug");
  EXPECT_EQ(config.log.format, "json");
  EXPECT_EQ(config.demo.feed, "tests/data/demo_feed.jsonl");
  EXPECT_EQ(config.demo.rate_per_s, 2.5);
  EXPECT_FALSE(config.demo.loop);
  EXPECT_EQ(config.connectors.discourse.secret, "s3cret");
  EXPECT_EQ(config.connectors.discourse.community, "forum");

  // Secrets never reach DescribeConfig (the start-up log).
  const std::string described = DescribeConfig(config);
  EXPECT_THAT(described, HasSubstr("kafka.properties: {sasl.mechanisms: SCRAM-SHA-512, "
                                   "sasl.password: \"****\", sasl.username: vigil, "
                                   "security.protocol: SASL_SSL}\n"));
  EXPECT_THAT(described, HasSubstr("connectors.discourse.secret: \"****\"\n"));
  EXPECT_THAT(described, HasSubstr("http.listen: [::1]:8443\n"));
  EXPECT_THAT(described, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(described, ::testing::Not(HasSubstr("s3cret")));
}

TEST(ConfigTest, DottedKeysMayBeWrittenFlatInTheFile) {
  const Config config =
      Parse("pipeline.workers: 3\nkafka:\n  topics.posts: p\n  properties.client.id: me\n");
  EXPECT_EQ(config.pipeline.workers, 3);
  EXPECT_EQ(config.kafka.topics.posts, "p");
  EXPECT_EQ(config.kafka.properties.at("client.id"), "me");
}

// One bad value of each kind, with its exact message and where it points.
TEST(ConfigTest, EachKindOfValueProblem) {
  EXPECT_EQ(Problem("pipeline:\n  workers: many\n"),
            "vigil.yaml:2:12: pipeline.workers: expected an integer from 0 to 1024, got \"many\"");
  EXPECT_EQ(Problem("pipeline:\n  workers: -1\n"),
            "vigil.yaml:2:12: pipeline.workers: expected an integer from 0 to 1024, got \"-1\"");
  EXPECT_EQ(Problem("pipeline:\n  workers: 1.5\n"),
            "vigil.yaml:2:12: pipeline.workers: expected an integer from 0 to 1024, got \"1.5\"");
  EXPECT_EQ(Problem("pipeline:\n  workers:\n"),
            "vigil.yaml:2:3: pipeline.workers: expected an integer from 0 to 1024, got nothing");
  EXPECT_EQ(Problem("pipeline:\n  max_post_bytes: lots\n"),
            "vigil.yaml:2:19: pipeline.max_post_bytes: expected a size such as 4096, 64KiB or "
            "16MiB, got \"lots\"");
  EXPECT_EQ(
      Problem("http:\n  max_body_bytes: 2GiB\n"),
      "vigil.yaml:2:19: http.max_body_bytes: expected a size from 1KiB to 1GiB, got \"2GiB\"");
  EXPECT_EQ(Problem("http:\n  request_timeout: 30\n"),
            "vigil.yaml:2:20: http.request_timeout: expected a duration such as 500ms, 30s or 10m, "
            "got \"30\"");
  EXPECT_EQ(
      Problem("http:\n  request_timeout: 2h\n"),
      "vigil.yaml:2:20: http.request_timeout: expected a duration from 1ms to 1h, got \"2h\"");
  EXPECT_EQ(Problem("demo:\n  loop: maybe\n"),
            "vigil.yaml:2:9: demo.loop: expected true or false, got \"maybe\"");
  EXPECT_EQ(Problem("demo:\n  rate_per_s: fast\n"),
            "vigil.yaml:2:15: demo.rate_per_s: expected a number above 0 and at most 1000000, got "
            "\"fast\"");
  EXPECT_EQ(Problem("log:\n  level: verbose\n"),
            "vigil.yaml:2:10: log.level: expected one of trace, debug, info, warn, error, got "
            "\"verbose\"");
  EXPECT_EQ(Problem("kafka:\n  topics:\n    hits: vigil hits\n"),
            "vigil.yaml:3:11: kafka.topics.hits: expected a Kafka topic name (1 to 249 of a-z A-Z "
            "0-9 . _ -), got \"vigil hits\"");
  EXPECT_EQ(Problem("kafka:\n  brokers: \"\"\n"),
            "vigil.yaml:2:12: kafka.brokers: expected \"embedded\" or a comma-separated list of "
            "host:port, got \"\"");
  EXPECT_EQ(Problem("kafka:\n  group_id: [a, b]\n"),
            "vigil.yaml:2:13: kafka.group_id: expected a non-empty string, got a list");
  EXPECT_EQ(
      Problem("rules:\n  paths: []\n"),
      "vigil.yaml:2:10: rules.paths: expected a file or folder, or a list of them, got a list");
  EXPECT_EQ(
      Problem("rules:\n  paths: [a, {b: c}]\n"),
      "vigil.yaml:2:14: rules.paths: expected a list of strings, got a list holding a mapping");
  EXPECT_EQ(Problem("state:\n  dir:\n"),
            "vigil.yaml:2:3: state.dir: expected a non-empty string, got nothing");
}

TEST(ConfigTest, ProblemsWithTheShapeOfTheFile) {
  EXPECT_EQ(Problem("- kafka\n- http\n"),
            "vigil.yaml:1:1: expected a mapping of sections (kafka:, http:, ...), got a list");
  EXPECT_EQ(Problem("kafka: localhost:9092\n"),
            "vigil.yaml:1:8: kafka: expected a mapping of kafka.* keys, got \"localhost:9092\"");
  EXPECT_EQ(Problem("pipeline:\n  workers: 2\n  workers: 3\n"),
            "vigil.yaml:3:3: pipeline.workers: set twice (first at vigil.yaml:2:3)");
  EXPECT_EQ(Problem("pipeline.workers: 2\npipeline:\n  workers: 3\n"),
            "vigil.yaml:3:3: pipeline.workers: set twice (first at vigil.yaml:1:1)");
  EXPECT_EQ(Problem("kafka:\n  properties: [a]\n"),
            "vigil.yaml:2:15: kafka.properties: expected a mapping of names to values, got a list");
}

TEST(ConfigTest, UnknownKeysSuggestTheClosestKnownOne) {
  EXPECT_EQ(Problem("pipeline:\n  worker: 2\n"),
            "vigil.yaml:2:3: pipeline.worker: unknown key; did you mean pipeline.workers?");
  EXPECT_EQ(Problem("pipelin:\n  workers: 2\n"),
            "vigil.yaml:1:1: pipelin: unknown key; did you mean pipeline?");
  EXPECT_EQ(Problem("kafka:\n  topic:\n    posts: p\n"),
            "vigil.yaml:2:3: kafka.topic: unknown key; did you mean kafka.topics?");
  EXPECT_EQ(Problem("log:\n  Level: info\n"),
            "vigil.yaml:2:3: log.Level: unknown key; did you mean log.level?");
  // The same name in another section.
  EXPECT_EQ(Problem("workers: 2\n"),
            "vigil.yaml:1:1: workers: unknown key; did you mean pipeline.workers?");
  // Nothing close: what the section holds.
  EXPECT_EQ(Problem("http:\n  port: 80\n"),
            "vigil.yaml:2:3: http.port: unknown key (http has listen, max_body_bytes, "
            "max_connections, request_timeout, tokens, tokens_file, open_endpoints, insecure, tls)");
  EXPECT_EQ(Problem("alerting:\n  x: 1\n"),
            "vigil.yaml:1:1: alerting: unknown key (sections: kafka, rules, http, pipeline, state, "
            "log, demo, connectors, alerts, audit)");
}

TEST(ConfigTest, KafkaPropertiesAreCheckedByLibrdkafka) {
  EXPECT_EQ(Problem("kafka:\n  properties:\n    sasl.mechanismz: PLAIN\n"),
            "vigil.yaml:3:5: kafka.properties.sasl.mechanismz: not a librdkafka property; did you "
            "mean sasl.mechanisms?");
  EXPECT_EQ(Problem("kafka:\n  properties:\n    security.protocol: carrier-pigeon\n"),
            "vigil.yaml:3:24: kafka.properties.security.protocol: librdkafka rejects it: Invalid "
            "value \"carrier-pigeon\" for configuration property \"security.protocol\"");
  EXPECT_EQ(Problem("kafka:\n  properties:\n    group.id: other\n"),
            "vigil.yaml:3:5: kafka.properties.group.id: vigild sets it from kafka.group_id; set "
            "kafka.group_id instead");
  EXPECT_EQ(Problem("kafka:\n  properties:\n    enable.auto.commit: true\n"),
            "vigil.yaml:3:5: kafka.properties.enable.auto.commit: vigild manages consumer offsets "
            "itself (they are stored with the incident state); remove it");
  EXPECT_EQ(SetProblem("kafka.properties.bootstrap.servers=x:9092"),
            "--set kafka.properties.bootstrap.servers: vigild sets it from kafka.brokers; set "
            "kafka.brokers instead");
  EXPECT_EQ(SetProblem("kafka.properties=x"),
            "--set kafka.properties: expected kafka.properties.<librdkafka property>");
}

TEST(ConfigTest, SetProblemsNameTheSet) {
  EXPECT_EQ(SetProblem("pipeline.workers"),
            "--set pipeline.workers: expected KEY=VALUE, such as --set http.listen=127.0.0.1:8080");
  EXPECT_EQ(SetProblem("=4"),
            "--set =4: expected KEY=VALUE, such as --set http.listen=127.0.0.1:8080");
  EXPECT_EQ(SetProblem("pipeline.worker=4"),
            "--set pipeline.worker: unknown key; did you mean pipeline.workers?");
  EXPECT_EQ(SetProblem("pipeline.workers=many"),
            "--set pipeline.workers: expected an integer from 0 to 1024, got \"many\"");
  EXPECT_EQ(SetProblem("kafka=x"),
            "--set kafka: kafka is a section; set one of its keys, such as kafka.brokers");
  EXPECT_EQ(SetProblem("state.dir="), "--set state.dir: expected a non-empty string, got \"\"");
}

TEST(ConfigTest, EveryProblemAtOnceInFileOrderThenSetOrder) {
  const std::string yaml = R"(http:
  listen: localhost
pipeline:
  workers: many
  colour: red
log:
  level: loud
)";
  EXPECT_THAT(
      Problems(yaml, {"demo.rate_per_s=0", "nope=1", "state.dir"}),
      ElementsAre(
          "vigil.yaml:2:11: http.listen: expected host:port such as 127.0.0.1:8080 or [::1]:8080, "
          "got \"localhost\"",
          "vigil.yaml:4:12: pipeline.workers: expected an integer from 0 to 1024, got \"many\"",
          "vigil.yaml:5:3: pipeline.colour: unknown key (pipeline has workers, queue_capacity, "
          "max_post_bytes, max_json_depth)",
          "vigil.yaml:7:10: log.level: expected one of trace, debug, info, warn, error, got "
          "\"loud\"",
          "--set demo.rate_per_s: expected a number above 0 and at most 1000000, got \"0\"",
          "--set nope: unknown key (sections: kafka, rules, http, pipeline, state, log, demo, "
          "connectors, alerts, audit)",
          "--set state.dir: expected KEY=VALUE, such as --set http.listen=127.0.0.1:8080"));
}

TEST(ConfigTest, YamlSyntaxErrorIsLocatedAndDoesNotThrow) {
  EXPECT_THAT(Problems("kafka: [brokers\n", {"pipeline.workers=x"}),
              ElementsAre("vigil.yaml:2:1: YAML syntax error: end of sequence flow not found",
                          "--set pipeline.workers: expected an integer from 0 to 1024, got \"x\""));
  EXPECT_THAT(Problems("a: b: c\n"), ElementsAre(HasSubstr("vigil.yaml:1:5: YAML syntax error: ")));
}

TEST(ConfigTest, MissingFileSaysWhyAndStillChecksTheSets) {
  Result<Config> config = LoadConfig({"/nonexistent/vigil.yaml", {"pipeline.workers=x"}}, NoEnv);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            "/nonexistent/vigil.yaml: cannot read: No such file or directory\n"
            "--set pipeline.workers: expected an integer from 0 to 1024, got \"x\"");
  Result<Config> directory = LoadConfig({std::string(VIGIL_SOURCE_DIR), {}}, NoEnv);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message,
            std::string(VIGIL_SOURCE_DIR) + ": cannot read: Is a directory");
}

TEST(ConfigTest, AFileOnDiskIsNamedAsGiven) {
  const std::string path = ::testing::TempDir() + "/config_test_vigil.yaml";
  std::ofstream(path) << "http:\n  listen: 127.0.0.1:8081\npipeline:\n  workers: many\n";
  Result<Config> config = LoadConfig({path, {}}, NoEnv);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            path + ":4:12: pipeline.workers: expected an integer from 0 to 1024, got \"many\"");
  Result<Config> fixed = LoadConfig({path, {"pipeline.workers=2"}}, NoEnv);
  EXPECT_FALSE(fixed.ok()) << "a --set does not excuse a bad value in the file";
  std::ofstream(path) << "http:\n  listen: 127.0.0.1:8081\n";
  Result<Config> good = LoadConfig({path, {"pipeline.workers=2"}}, NoEnv);
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->http.port, 8081);
  EXPECT_EQ(good->pipeline.workers, 2);
  std::remove(path.c_str());
}

TEST(ConfigTest, EnvReferencesAreReplaced) {
  const EnvLookup env = FakeEnv({{"KAFKA_PASSWORD", "hunter2"},
                                 {"WORKERS", "many"},
                                 {"EMPTY", ""},
                                 {"HOST", "kafka.internal"}});
  const Config config = Parse(R"(kafka:
  brokers: ${env:HOST}:9092
  properties:
    sasl.password: ${env:KAFKA_PASSWORD}
demo:
  feed: ${env:EMPTY}
)",
                              {"kafka.properties.sasl.username=${env:HOST}"}, env);
  EXPECT_EQ(config.kafka.brokers, "kafka.internal:9092");
  EXPECT_EQ(config.kafka.properties.at("sasl.password"), "hunter2");
  EXPECT_EQ(config.kafka.properties.at("sasl.username"), "kafka.internal");
  EXPECT_EQ(config.demo.feed, "");

  EXPECT_THAT(
      Problems("kafka:\n  properties:\n    sasl.password: ${env:NOPE}\npipeline:\n  workers: "
               "${env:WORKERS}\n"
               "state:\n  dir: ${env:bad-name}\n",
               {"demo.feed=${env:ALSO_NOPE}"}, env),
      ElementsAre("vigil.yaml:3:20: kafka.properties.sasl.password: env NOPE is not set",
                  "vigil.yaml:5:12: pipeline.workers: expected an integer from 0 to 1024, got "
                  "\"many\" from env WORKERS",
                  "vigil.yaml:7:8: state.dir: expected ${env:NAME} with NAME made of letters, "
                  "digits and _, got \"${env:bad-name}\"",
                  "--set demo.feed: env ALSO_NOPE is not set"));
}

TEST(ConfigTest, HttpListenForms) {
  auto listen = [](const std::string& value) { return Parse("", {"http.listen=" + value}).http; };
  EXPECT_EQ(listen("127.0.0.1:8080").host, "127.0.0.1");
  EXPECT_EQ(listen("localhost:80").port, 80);
  EXPECT_EQ(listen("[::1]:8080").host, "::1");
  EXPECT_EQ(listen("[::1]:8080").port, 8080);
  EXPECT_EQ(listen("[::]:0").listen(), "[::]:0");
  EXPECT_EQ(Parse("http: {listen: \"[::1]:9090\"}\n").http.listen(), "[::1]:9090");

  EXPECT_EQ(
      SetProblem("http.listen=127.0.0.1:70000"),
      "--set http.listen: expected host:port with a port from 0 to 65535, got \"127.0.0.1:70000\"");
  EXPECT_EQ(SetProblem("http.listen=localhost"),
            "--set http.listen: expected host:port such as 127.0.0.1:8080 or [::1]:8080, got "
            "\"localhost\"");
  EXPECT_EQ(
      SetProblem("http.listen=localhost:"),
      "--set http.listen: expected host:port with a port from 0 to 65535, got \"localhost:\"");
  EXPECT_EQ(
      SetProblem("http.listen=:8080"),
      "--set http.listen: expected host:port such as 127.0.0.1:8080 or [::1]:8080, got \":8080\"");
  EXPECT_EQ(
      SetProblem("http.listen=[::1]"),
      "--set http.listen: expected host:port such as 127.0.0.1:8080 or [::1]:8080, got \"[::1]\"");
  EXPECT_EQ(SetProblem("http.listen=::1:8080"),
            "--set http.listen: expected host:port with an IPv6 host in brackets, such as "
            "[::1]:8080, got \"::1:8080\"");
  EXPECT_EQ(SetProblem("http.listen=host:http"),
            "--set http.listen: expected host:port with a port from 0 to 65535, got \"host:http\"");
}

TEST(ConfigTest, DurationsAndSizes) {
  auto timeout = [](const std::string& value) {
    return Parse("", {"http.request_timeout=" + value}).http.request_timeout;
  };
  EXPECT_EQ(timeout("500ms"), 500ms);
  EXPECT_EQ(timeout("30s"), 30s);
  EXPECT_EQ(timeout("10m"), 10min);
  EXPECT_EQ(timeout("1h"), 1h);
  EXPECT_EQ(timeout("1 s"), 1s);
  for (const std::string bad :
       {"30", "1.5s", "-1s", "10 min", "s", "0s", "99999999999999999999h"}) {
    EXPECT_THAT(Problems("", {"http.request_timeout=" + bad}),
                ElementsAre(HasSubstr("expected a duration")))
        << bad;
  }

  auto body = [](const std::string& value) {
    return Parse("", {"http.max_body_bytes=" + value}).http.max_body_bytes;
  };
  EXPECT_EQ(body("4096"), 4096u);
  EXPECT_EQ(body("4096B"), 4096u);
  EXPECT_EQ(body("64KiB"), 64u << 10);
  EXPECT_EQ(body("16MiB"), 16u << 20);
  EXPECT_EQ(body("1GiB"), 1u << 30);
  EXPECT_EQ(body("2MB"), 2000000u);
  EXPECT_EQ(body("1 MiB"), 1u << 20);
  for (const std::string bad :
       {"16mib", "1.5MiB", "-1", "MiB", "1023", "1TiB", "18446744073709551617"}) {
    EXPECT_THAT(Problems("", {"http.max_body_bytes=" + bad}),
                ElementsAre(HasSubstr("expected a size")))
        << bad;
  }
}

TEST(ConfigTest, TopicsMustDifferAndTheLastSetOneIsBlamed) {
  EXPECT_EQ(
      SetProblem("kafka.topics.dlq=vigil.posts"),
      "--set kafka.topics.dlq: must differ from kafka.topics.posts (both are \"vigil.posts\")");
  EXPECT_EQ(Problem("kafka:\n  topics:\n    posts: vigil.hits\n"),
            "vigil.yaml:3:12: kafka.topics.posts: must differ from kafka.topics.hits (both are "
            "\"vigil.hits\")");
}

// packaging/vigil.yaml is installed as /etc/vigil/vigil.yaml: it must load, differ from the
// defaults only where its comments say so, and mention every key.
TEST(ConfigTest, PackagedConfigLoadsAndEqualsTheDefaultsExceptWhereItSaysSo) {
  const std::string path = std::string(VIGIL_SOURCE_DIR) + "/packaging/vigil.yaml";
  Result<Config> loaded = LoadConfig({path, {}}, NoEnv);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  Config expected;
  expected.rules.paths = {"/usr/share/vigil/rules"};
  expected.state.dir = "/var/lib/vigil";
  EXPECT_EQ(DescribeConfig(*loaded), DescribeConfig(expected));
  EXPECT_EQ(*loaded, expected);

  const YAML::Node file = YAML::LoadFile(path);
  for (const ConfigKey& entry : ConfigSchema()) {
    YAML::Node node = YAML::Clone(file);
    std::string_view key = entry.key;
    for (size_t dot; !key.empty();
         key.remove_prefix(dot == std::string_view::npos ? key.size() : dot + 1)) {
      dot = key.find('.');
      node = node[std::string(key.substr(0, dot))];
      ASSERT_TRUE(node.IsDefined()) << entry.key << " is not in packaging/vigil.yaml";
    }
  }
}

TEST(ConfigTest, ReferenceMentionsEveryKey) {
  const std::string reference = ConfigReferenceMarkdown();
  EXPECT_THAT(reference,
              ::testing::StartsWith("| key | type | default | description |\n|---|---|---|---|\n"));
  for (const char* key : {"kafka.brokers",
                          "kafka.topics.posts",
                          "kafka.topics.hits",
                          "kafka.topics.dlq",
                          "kafka.group_id",
                          "kafka.embedded_partitions",
                          "kafka.properties.<name>",
                          "rules.paths",
                          "rules.cache_dir",
                          "http.listen",
                          "http.max_body_bytes",
                          "http.max_connections",
                          "http.request_timeout",
                          "http.tls.cert_file",
                          "http.tls.key_file",
                          "http.tls.client_ca_file",
                          "pipeline.workers",
                          "pipeline.queue_capacity",
                          "pipeline.max_post_bytes",
                          "pipeline.max_json_depth",
                          "state.dir",
                          "log.level",
                          "log.format",
                          "demo.feed",
                          "demo.rate_per_s",
                          "demo.loop",
                          "connectors.discourse.secret",
                          "connectors.discourse.community"}) {
    EXPECT_THAT(reference, HasSubstr(std::string("| `") + key + "` |")) << key;
  }
  EXPECT_EQ(std::count(reference.begin(), reference.end(), '\n'), long(ConfigSchema().size()) + 2);
  EXPECT_THAT(reference, HasSubstr("| `http.max_body_bytes` | size | `16MiB` | "));
  EXPECT_THAT(reference, HasSubstr("| `http.request_timeout` | duration | `30s` | "));
  EXPECT_THAT(reference,
              HasSubstr("| `log.level` | trace\\|debug\\|info\\|warn\\|error | `info` | "));
  EXPECT_THAT(reference, HasSubstr("| `http.listen` | host:port | `127.0.0.1:8080` | "));
}

TEST(ConfigTest, ApiTokensOpenEndpointsAndTheAuditFile) {
  const Config config = Parse(R"(http:
  tokens:
    - name: alice
      role: responder
      token: ${env:ALICE_TOKEN}
    - {name: prometheus, role: viewer, sha256: abc}
  open_endpoints: [/healthz]
  insecure: true
audit:
  file: /var/log/vigil/audit.log
)",
                              {}, FakeEnv({{"ALICE_TOKEN", "alice-0123456789abcdef"}}));
  ASSERT_EQ(config.http.tokens.size(), 2u);
  EXPECT_EQ(config.http.tokens[0].name, "alice");
  EXPECT_EQ(config.http.tokens[0].token, "alice-0123456789abcdef");
  EXPECT_EQ(config.http.tokens[0].where, "vigil.yaml:3:7");
  EXPECT_EQ(config.http.tokens[1].sha256, "abc");
  EXPECT_EQ(config.http.open_endpoints, std::vector<std::string>{"/healthz"});
  EXPECT_TRUE(config.http.insecure);
  EXPECT_EQ(config.audit_file(), "/var/log/vigil/audit.log");
  EXPECT_EQ(Config().audit_file(), "./vigil-state/audit.log");
  // Names and roles are shown; a token never is.
  const std::string described = DescribeConfig(config);
  EXPECT_THAT(described, HasSubstr("http.tokens: [alice (responder), prometheus (viewer)]"));
  EXPECT_EQ(described.find("alice-0123456789abcdef"), std::string::npos) << described;

  EXPECT_EQ(Problem("http:\n  open_endpoints: [/healthz, /api/v1/status]\n"),
            "vigil.yaml:2:19: http.open_endpoints: only /healthz, /readyz and /metrics may be "
            "served without a token, got \"/api/v1/status\"");
  EXPECT_EQ(Problem("http:\n  tokens:\n    - {name: a, role: viewer, secret: x}\n"),
            "vigil.yaml:3:5: http.tokens: secret: unknown field (name, role, token, sha256) in "
            "the entry at line 3");
  EXPECT_THAT(SetProblem("http.tokens=abc"), HasSubstr("expected a list of {name, role, token}"));
}

}  // namespace
}  // namespace vigil::daemon
