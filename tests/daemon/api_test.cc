// The HTTP API against the embedded broker: readiness, status, rule testing and reload,
// and ingest that answers 202 only after Kafka acknowledged, 400/413/503 otherwise.
#include "daemon/lib/api.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "tests/testing/alert_sink_fixture.h"
#include "tests/testing/temp_dir.h"

#include "connectors/embedded_broker.h"
#include "daemon/lib/version.h"
#include "tests/testing/http_client.h"
#include "tests/testing/kafka_fixture.h"

namespace vigil::daemon {
namespace {

using nlohmann::json;

constexpr char kRules[] = R"(
rules:
  - id: complaint.refund
    category: complaint
    severity: medium
    owner: customer_service
    when: {all: [退款, 没到账], near: 30}
    examples:
      hit: ["退款一个月了还没到账"]
      miss: ["退款已到账"]
)";

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "rules.yaml") << kRules;
    config_.rules.paths = {(dir_ / "rules.yaml").string()};
    config_.http.max_body_bytes = 4096;
    holder_ = std::make_unique<RuleHolder>(config_.rules.paths, "");
    ASSERT_TRUE(holder_->Reload().ok);
    auto broker = connectors::EmbeddedBroker::Start(
        {{"vigil.posts", 3}, {"vigil.hits", 3}, {"vigil.dlq", 1}});
    ASSERT_TRUE(broker.ok());
    broker_ = std::move(*broker);
    auto producer = connectors::KafkaProducer::Create(
        {broker_->bootstrap(), {}, /*message_timeout_ms=*/3000, "ingest"});
    ASSERT_TRUE(producer.ok());
    ingest_ = std::move(*producer);

    context_.config = &config_;
    context_.bootstrap = broker_->bootstrap();
    context_.rules = holder_.get();
    context_.ingest_producer = ingest_.get();
    context_.reload = [this] { return holder_->Reload(); };
    server_ = std::make_unique<HttpServer>(HttpServerOptions{.port = 0, .max_body_bytes = 4096});
    RegisterApi(*server_, context_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_.reset();
    ingest_.reset();
    broker_.reset();
  }
  testing::HttpReply Call(const std::string& method, const std::string& path,
                          const std::string& body = "") {
    return testing::HttpCall(server_->port(), method, path, body);
  }

  testing::TempDir dir_;
  Config config_;
  std::unique_ptr<RuleHolder> holder_;
  std::unique_ptr<connectors::EmbeddedBroker> broker_;
  std::unique_ptr<connectors::KafkaProducer> ingest_;
  ApiContext context_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ApiTest, HealthReadinessAndStatus) {
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);  // rules loaded; no consumer in this test
  const auto status = json::parse(Call("GET", "/api/v1/status").body);
  EXPECT_EQ(status["rules"]["count"], 1);
  EXPECT_EQ(status["rules"]["hash"], holder_->current()->hash());
  EXPECT_EQ(status["kafka"]["bootstrap"], broker_->bootstrap());
  EXPECT_TRUE(status["kafka"]["embedded"].get<bool>());
  const BuildVersionInfo versions = BuildVersions();
  EXPECT_EQ(status["version"], versions.vigil);
  EXPECT_EQ(status["hyperscan"], versions.hyperscan);
  EXPECT_EQ(status["re2"], versions.re2);
  EXPECT_EQ(status["librdkafka"], versions.librdkafka);
  EXPECT_FALSE(versions.librdkafka.empty());
}

TEST_F(ApiTest, ReadinessWaitsForAnAssignment) {
  connectors::ConsumerOptions options;
  options.brokers = broker_->bootstrap();
  auto consumer = connectors::KafkaConsumer::Create(options);
  ASSERT_TRUE(consumer.ok());
  context_.consumer = consumer->get();
  const auto reply = Call("GET", "/readyz");
  EXPECT_EQ(reply.status, 503);
  EXPECT_NE(reply.body.find("no partitions assigned"), std::string::npos) << reply.body;
  std::thread run([&] { (*consumer)->Run([](std::unique_ptr<connectors::ConsumedMessage>) {}); });
  EXPECT_TRUE(testing::WaitFor([&] { return Call("GET", "/readyz").status == 200; }));
  (*consumer)->Stop();
  run.join();
  context_.consumer = nullptr;
}

TEST_F(ApiTest, RulesTestExplainsHitsAndRejections) {
  auto reply =
      Call("POST", "/api/v1/rules/test", R"({"text": "退款一个月了还没到账，客服一直不处理"})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto body = json::parse(reply.body);
  ASSERT_EQ(body["hits"].size(), 1u);
  EXPECT_EQ(body["hits"][0]["rule_id"], "complaint.refund");
  EXPECT_FALSE(body["hits"][0]["explain"].empty());

  reply = Call("POST", "/api/v1/rules/test", R"({"text": "退款已到账，谢谢"})");
  body = json::parse(reply.body);
  EXPECT_TRUE(body["hits"].empty());

  EXPECT_EQ(Call("POST", "/api/v1/rules/test", "not json").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/rules/test", R"({"text": 5})").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/rules/test").status, 405);
}

TEST_F(ApiTest, RulesListShowsTheRunningSet) {
  const auto body = json::parse(Call("GET", "/api/v1/rules").body);
  ASSERT_EQ(body["rules"].size(), 1u);
  EXPECT_EQ(body["rules"][0]["id"], "complaint.refund");
  EXPECT_EQ(body["rules"][0]["owner"], "customer_service");
}

TEST_F(ApiTest, AFailingReloadIs422AndKeepsTheRunningSet) {
  const std::string before = holder_->current()->hash();
  std::string failing = kRules;  // its hit example no longer hits
  failing.replace(failing.find("退款一个月了还没到账"), std::string("退款一个月了还没到账").size(),
                  "一切正常");
  std::ofstream(dir_ / "rules.yaml") << failing;
  const auto reply = Call("POST", "/api/v1/rules/reload");
  EXPECT_EQ(reply.status, 422) << reply.body;
  const auto body = json::parse(reply.body);
  EXPECT_FALSE(body["ok"].get<bool>());
  EXPECT_NE(body["error"].get<std::string>().find("rules.yaml"), std::string::npos)
      << body["error"];
  EXPECT_EQ(body["rule_set"], before);
  EXPECT_EQ(holder_->current()->hash(), before);

  std::ofstream(dir_ / "rules.yaml") << kRules;
  EXPECT_EQ(Call("POST", "/api/v1/rules/reload").status, 200);
}

TEST_F(ApiTest, IngestAnswers202OnlyForDurablePosts) {
  auto reply =
      Call("POST", "/api/v1/posts",
           "{\"id\":\"a\",\"body\":\"退款没到账\"}\n\n{\"id\":\"b\",\"body\":\"hello\"}\n");
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(json::parse(reply.body)["accepted"], 2);
  reply = Call("POST", "/api/v1/posts", R"([{"id":"c","body":"x"}])");
  ASSERT_EQ(reply.status, 202) << reply.body;
  const auto posts = testing::ReadTopic(broker_->bootstrap(), "vigil.posts", 3, 3);
  ASSERT_EQ(posts.size(), 3u);
  std::set<std::string> keys;
  for (const auto& p : posts) keys.insert(p.key);
  EXPECT_EQ(keys, (std::set<std::string>{"a", "b", "c"}));
}

TEST_F(ApiTest, IngestRejectsBadPostsWithReasonsAndSendsNone) {
  const auto reply =
      Call("POST", "/api/v1/posts", "{\"id\":\"a\",\"body\":\"ok\"}\n{\"id\":\"b\"}\nnot json\n");
  ASSERT_EQ(reply.status, 400);
  const auto body = json::parse(reply.body);
  ASSERT_EQ(body["invalid"].size(), 2u);
  EXPECT_EQ(body["invalid"][0]["item"], 2);
  EXPECT_EQ(body["invalid"][0]["reason"], "missing_body");
  EXPECT_EQ(body["invalid"][1]["item"], 3);
  EXPECT_EQ(body["invalid"][1]["reason"], "not_json");
  EXPECT_TRUE(
      testing::ReadTopic(broker_->bootstrap(), "vigil.posts", 3, 1, std::chrono::milliseconds(1500))
          .empty());
  EXPECT_EQ(Call("POST", "/api/v1/posts", "").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/posts", "[1, 2").status, 400);
}

TEST_F(ApiTest, IngestOverTheSizeLimitIs413) {
  const std::string big = "{\"id\":\"a\",\"body\":\"" + std::string(5000, 'x') + "\"}";
  EXPECT_EQ(Call("POST", "/api/v1/posts", big).status, 413);
}

TEST_F(ApiTest, IngestIs503WhenKafkaIsDown) {
  broker_->SetBrokerDown(1, true);
  const auto reply = Call("POST", "/api/v1/posts", R"({"id":"a","body":"x"})");
  EXPECT_EQ(reply.status, 503) << reply.body;
  EXPECT_EQ(reply.headers.count("Retry-After"), 1u);
  broker_->SetBrokerDown(1, false);
}

TEST_F(ApiTest, IncidentsListShowAcknowledgeResolve) {
  auto store = alerts::OpenSqliteStore((dir_ / "vigil.db").string());
  ASSERT_TRUE(store.ok());
  FakeClock clock;
  AlertSink sink(**store, clock);
  ASSERT_TRUE(sink.Start().ok());
  context_.alerts = &sink;
  context_.store = store->get();
  HttpServer server(HttpServerOptions{.port = 0});
  RegisterApi(server, context_);
  ASSERT_TRUE(server.Start().ok());
  auto call = [&](const std::string& method, const std::string& path, const std::string& body = "",
                  std::map<std::string, std::string> headers = {}) {
    return testing::HttpCall(server.port(), method, path, body, headers);
  };

  testing::ApplyPrivacyHit(sink, clock);

  auto list = json::parse(call("GET", "/api/v1/incidents?state=open&category=privacy_leak").body);
  ASSERT_EQ(list["incidents"].size(), 1u);
  EXPECT_EQ(list["incidents"][0]["owner"], "legal");
  EXPECT_TRUE(json::parse(call("GET", "/api/v1/incidents?severity=low").body)["incidents"].empty());
  EXPECT_EQ(call("GET", "/api/v1/incidents?state=bogus").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/incidents?limit=0").status, 400);

  auto detail = call("GET", "/api/v1/incidents/1");
  ASSERT_EQ(detail.status, 200);
  auto body = json::parse(detail.body);
  EXPECT_EQ(body["evidence"][0]["excerpt"], "my id 110105********002X");
  EXPECT_EQ(body["timeline"][0]["action"], "opened");
  EXPECT_EQ(call("GET", "/api/v1/incidents/99").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/incidents/abc").status, 404);

  auto acked = call("POST", "/api/v1/incidents/1/ack", "", {{"X-Vigil-Actor", "alice"}});
  ASSERT_EQ(acked.status, 200) << acked.body;
  // No tokens (open mode): the header is only a claim, and shown as one.
  EXPECT_EQ(json::parse(acked.body)["acknowledged"]["by"], "alice (unauthenticated, 127.0.0.1)");
  EXPECT_EQ(call("POST", "/api/v1/incidents/1/resolve", "{\"comment\": 5}").status, 400);
  auto resolved =
      call("POST", "/api/v1/incidents/1/resolve", R"({"comment": "ID removed by the moderator"})",
           {{"X-Vigil-Actor", "alice"}});
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(json::parse(resolved.body)["state"], "resolved");
  EXPECT_EQ(call("POST", "/api/v1/incidents/1/resolve").status, 409);
  EXPECT_EQ(call("POST", "/api/v1/incidents/1/explode").status, 404);
  const auto timeline = json::parse(call("GET", "/api/v1/incidents/1").body)["timeline"];
  ASSERT_EQ(timeline.size(), 3u);
  EXPECT_EQ(timeline[2]["detail"], "ID removed by the moderator");
  sink.Stop();
  context_.alerts = nullptr;
  context_.store = nullptr;
}

TEST_F(ApiTest, SilencesAndSignedAcknowledgeLinks) {
  auto store = alerts::OpenSqliteStore((dir_ / "vigil.db").string());
  ASSERT_TRUE(store.ok());
  FakeClock clock;
  AlertSink sink(**store, clock);
  ASSERT_TRUE(sink.Start().ok());
  auto sender = alerts::MakeChannelSender(*alerts::EmptyPagingConfig());
  alerts::Pager pager(**store, clock, alerts::EmptyPagingConfig(), *sender,
                      {"http://vigil.test", "link-secret", 3});
  context_.alerts = &sink;
  context_.store = store->get();
  context_.pager = &pager;
  HttpServer server(HttpServerOptions{.port = 0});
  RegisterApi(server, context_);
  ASSERT_TRUE(server.Start().ok());
  auto call = [&](const std::string& method, const std::string& path, const std::string& body = "",
                  std::map<std::string, std::string> headers = {}) {
    return testing::HttpCall(server.port(), method, path, body, headers);
  };

  // Silences: created, listed, validated with the field named, expired by DELETE.
  auto created =
      call("POST", "/api/v1/silences",
           R"({"matchers": {"rule": "privacy.*"}, "duration": "2h", "comment": "known"})",
           {{"X-Vigil-Actor", "alice"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto silence = json::parse(created.body);
  EXPECT_EQ(silence["author"], "alice (unauthenticated, 127.0.0.1)");
  EXPECT_EQ(silence["state"], "active");
  EXPECT_EQ(silence["ends_ms"].get<int64_t>() - silence["starts_ms"].get<int64_t>(), 7200000);
  EXPECT_EQ(call("POST", "/api/v1/silences", R"({"matchers": {"post": "x"}, "duration": "1h",
             "comment": "c"})")
                .status,
            400);
  auto no_comment =
      call("POST", "/api/v1/silences", R"({"matchers": {"rule": "r"}, "duration": "1h"})");
  EXPECT_EQ(no_comment.status, 400);
  EXPECT_NE(no_comment.body.find("comment"), std::string::npos) << no_comment.body;
  EXPECT_EQ(
      call("POST", "/api/v1/silences", R"({"matchers": {"rule": "r"}, "comment": "c"})").status,
      400);
  EXPECT_EQ(call("POST", "/api/v1/silences", "not json").status, 400);
  EXPECT_EQ(json::parse(call("GET", "/api/v1/silences").body)["silences"].size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/silences?state=later").status, 400);
  auto expired = call("DELETE", "/api/v1/silences/1", "", {{"X-Vigil-Actor", "bob"}});
  ASSERT_EQ(expired.status, 200) << expired.body;
  EXPECT_EQ(json::parse(expired.body)["state"], "expired");
  EXPECT_TRUE(json::parse(call("GET", "/api/v1/silences").body)["silences"].empty());
  EXPECT_EQ(json::parse(call("GET", "/api/v1/silences?state=expired").body)["silences"].size(), 1u);
  EXPECT_EQ(call("DELETE", "/api/v1/silences/9").status, 404);

  // An incident, then its acknowledge link: GET changes nothing, POST acknowledges.
  testing::ApplyPrivacyHit(sink, clock);
  const std::string link = pager.AckUrl(1, "sunmin");
  ASSERT_EQ(link.rfind("http://vigil.test/api/v1/incidents/1/ack?by=sunmin&sig=", 0), 0u) << link;
  const std::string path = link.substr(std::string("http://vigil.test").size());
  auto page = call("GET", path);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos) << page.body;
  EXPECT_EQ(json::parse(call("GET", "/api/v1/incidents/1").body)["state"], "open");
  EXPECT_EQ(call("GET", "/api/v1/incidents/1/ack").status, 405);
  std::string tampered = path;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(call("POST", tampered).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/incidents/1/ack?by=mallory&sig=" + path.substr(path.size() - 64))
                .status,
            403);
  auto acked = call("POST", path, "", {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_NE(acked.body.find("Acknowledged by sunmin"), std::string::npos);
  auto incident = json::parse(call("GET", "/api/v1/incidents/1").body);
  EXPECT_EQ(incident["state"], "acknowledged");
  EXPECT_EQ(incident["acknowledged"]["by"], "sunmin (page link)");
  // A second person's link: told who has it, the acknowledgement stays sunmin's.
  const std::string other =
      pager.AckUrl(1, "wangli").substr(std::string("http://vigil.test").size());
  auto second = call("POST", other, "", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(second.status, 200);
  EXPECT_NE(second.body.find("already acknowledged"), std::string::npos) << second.body;
  EXPECT_NE(second.body.find("Acknowledged by sunmin (page link)"), std::string::npos);
  EXPECT_EQ(json::parse(call("GET", "/api/v1/incidents/1").body)["acknowledged"]["by"],
            "sunmin (page link)");
  sink.Stop();
  context_.alerts = nullptr;
  context_.store = nullptr;
  context_.pager = nullptr;
}

}  // namespace
}  // namespace vigil::daemon
