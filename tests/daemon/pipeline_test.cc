// The pipeline end to end on the embedded broker: posts in, hits and dead letters out,
// offsets committed only for finished posts, faults survived.
#include "daemon/lib/pipeline.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"

#include "connectors/embedded_broker.h"
#include "tests/testing/kafka_fixture.h"

namespace vigil::daemon {
namespace {

constexpr char kRules[] = R"(
rules:
  - id: complaint.refund
    category: complaint
    severity: medium
    owner: customer_service
    when: {all: [refund]}
    incident: {group_by: [community]}
  - id: privacy.mobile
    category: privacy_leak
    severity: high
    owner: legal
    mask: true
    when: {any: ["re:1[3-9]\\d{9}"], validate: cn_mobile}
)";

class CapturingSink : public HitSink {
 public:
  void Accept(std::vector<alerts::HitEvent> hits, const SourcePosition&,
              std::function<void()> done) override {
    {
      std::lock_guard lock(mutex_);
      for (const alerts::HitEvent& hit : hits) seen_.push_back(hit.post_id + "/" + hit.rule_id);
    }
    done();
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> seen_;
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "rules.yaml") << kRules;
    holder_ =
        std::make_unique<RuleHolder>(std::vector<std::string>{(dir_ / "rules.yaml").string()}, "");
    ASSERT_TRUE(holder_->Reload().ok);
    auto broker = connectors::EmbeddedBroker::Start(
        {{"vigil.posts", 3}, {"vigil.hits", 3}, {"vigil.dlq", 1}});
    ASSERT_TRUE(broker.ok()) << broker.error().message;
    broker_ = std::move(*broker);
    auto producer = connectors::KafkaProducer::Create({broker_->bootstrap(), {}, 0, "test"});
    ASSERT_TRUE(producer.ok());
    producer_ = std::move(*producer);
  }
  void TearDown() override {
    StopPipeline();
    producer_.reset();
    broker_.reset();
  }

  void StartPipeline(size_t max_in_flight = 4096, connectors::ConsumerOptions options = {}) {
    options.brokers = broker_->bootstrap();
    options.max_in_flight = max_in_flight;
    auto consumer = connectors::KafkaConsumer::Create(options);
    ASSERT_TRUE(consumer.ok()) << consumer.error().message;
    consumer_ = std::move(*consumer);
    pipeline_ = std::make_unique<Pipeline>(PipelineOptions{.workers = 2, .metrics = &metrics_},
                                           *holder_, *consumer_, *producer_, sink_);
    pipeline_->Start();
  }
  void StopPipeline() {
    if (pipeline_) pipeline_->Stop();
    pipeline_.reset();
    consumer_.reset();
  }

  void ProducePosts(const std::vector<std::string>& values) {
    std::atomic<size_t> acked{0};
    for (size_t i = 0; i < values.size(); ++i) {
      ASSERT_TRUE(producer_
                      ->Produce({"vigil.posts", "k" + std::to_string(i), values[i], {}},
                                [&](const Status& s) { acked += s.ok(); })
                      .ok());
    }
    ASSERT_TRUE(producer_->Flush(10000));
    ASSERT_EQ(acked.load(), values.size());
  }

  static std::string Post(int i, const std::string& body) {
    return nlohmann::json{
        {"id", "p" + std::to_string(i)}, {"body", body}, {"community", "c" + std::to_string(i % 3)}}
        .dump();
  }

  testing::TempDir dir_;
  std::unique_ptr<RuleHolder> holder_;
  std::unique_ptr<connectors::EmbeddedBroker> broker_;
  std::unique_ptr<connectors::KafkaProducer> producer_;
  std::unique_ptr<connectors::KafkaConsumer> consumer_;
  std::unique_ptr<Pipeline> pipeline_;
  CapturingSink sink_;
  Metrics metrics_;
};

TEST_F(PipelineTest, EveryPostIsMatchedOnceAndHitsAndDeadLettersAreProduced) {
  std::vector<std::string> posts;
  for (int i = 0; i < 300; ++i) {
    posts.push_back(Post(i, i % 10 == 0 ? "I want a refund now" : "lovely weather today"));
  }
  posts.push_back("not json at all");
  posts.push_back(R"({"id": "no-body"})");
  posts.push_back(Post(1000, "call me on 13812345678 about the refund"));
  ProducePosts(posts);
  StartPipeline();
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().completed == posts.size(); }));
  EXPECT_EQ(pipeline_->stats().consumed, posts.size());
  EXPECT_EQ(pipeline_->stats().matched, posts.size() - 2);
  EXPECT_EQ(pipeline_->stats().invalid[size_t(connectors::InvalidReason::kNotJson)], 1u);
  EXPECT_EQ(pipeline_->stats().invalid[size_t(connectors::InvalidReason::kMissingBody)], 1u);
  const auto metrics = testing::ParseExposition(metrics_.Render());
  EXPECT_EQ(metrics.Value("vigil_hits_total", {{"rule", "complaint.refund"}}), 31.0);
  EXPECT_EQ(
      metrics.Value("vigil_hits_total", {{"rule", "privacy.mobile"}, {"category", "privacy_leak"}}),
      1.0);
  EXPECT_EQ(metrics.Value("vigil_rule_candidates_total", {{"rule", "complaint.refund"}}), 31.0);
  EXPECT_EQ(metrics.Value("vigil_match_duration_seconds_count"), double(posts.size() - 2));

  const auto hits = testing::ReadTopic(broker_->bootstrap(), "vigil.hits", 3, 32);
  ASSERT_EQ(hits.size(), 32u);  // 30 refunds + refund and mobile in p1000
  std::set<std::string> hit_ids;
  for (const auto& hit : hits) {
    auto json = nlohmann::json::parse(hit.value);
    hit_ids.insert(json["hit_id"].get<std::string>());
    EXPECT_EQ(hit.key, json["incident_key"].get<std::string>());
    EXPECT_EQ(hit.value.find("13812345678"), std::string::npos)
        << "a masked value leaked: " << hit.value;
  }
  EXPECT_EQ(hit_ids.size(), 32u);
  EXPECT_EQ(sink_.seen().size(), 32u);

  const auto dead = testing::ReadTopic(broker_->bootstrap(), "vigil.dlq", 1, 2);
  ASSERT_EQ(dead.size(), 2u);
  std::set<std::string> reasons;
  for (const auto& d : dead) {
    reasons.insert(d.headers.at("vigil.reason"));
    EXPECT_EQ(d.headers.at("vigil.source.topic"), "vigil.posts");
    EXPECT_FALSE(d.headers.at("vigil.source.offset").empty());
    EXPECT_TRUE(d.value == "not json at all" || d.value == R"({"id": "no-body"})")
        << "DLQ must keep the bytes";
  }
  EXPECT_EQ(reasons, (std::set<std::string>{"not_json", "missing_body"}));
}

TEST_F(PipelineTest, ARestartResumesAfterTheCommittedOffsets) {
  std::vector<std::string> first, second;
  for (int i = 0; i < 50; ++i) first.push_back(Post(i, "refund please"));
  for (int i = 50; i < 80; ++i) second.push_back(Post(i, "refund please"));
  ProducePosts(first);
  StartPipeline();
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().completed == first.size(); }));
  StopPipeline();  // drains and commits

  ProducePosts(second);
  StartPipeline();
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().completed == second.size(); }));
  // Nothing of the first batch came back: the group resumed at the committed offsets.
  EXPECT_EQ(pipeline_->stats().consumed, second.size());
  EXPECT_EQ(sink_.seen().size(), first.size() + second.size());
}

TEST_F(PipelineTest, AStateStoreCanChooseWhereAPartitionResumes) {
  std::vector<std::string> posts;
  for (int i = 0; i < 40; ++i) posts.push_back(Post(i, "refund please"));
  ProducePosts(posts);
  StartPipeline();
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().completed == posts.size(); }));
  StopPipeline();  // everything committed

  // The state store (here: a fake) says it durably holds nothing: replay from offset 0.
  std::vector<int32_t> asked;
  connectors::ConsumerOptions options;
  options.resume_offsets = [&](const std::string& topic, const std::vector<int32_t>& partitions) {
    EXPECT_EQ(topic, "vigil.posts");
    asked = partitions;
    std::map<int32_t, int64_t> offsets;
    for (int32_t p : partitions) offsets[p] = 0;
    return offsets;
  };
  StartPipeline(4096, options);
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().completed == posts.size(); }));
  EXPECT_EQ(asked.size(), 3u);
  EXPECT_EQ(pipeline_->stats().consumed, posts.size());
}

TEST_F(PipelineTest, ASmallInFlightBoundPausesAndStillProcessesEverything) {
  std::vector<std::string> posts;
  for (int i = 0; i < 600; ++i) posts.push_back(Post(i, i % 2 ? "refund" : "fine"));
  ProducePosts(posts);
  StartPipeline(/*max_in_flight=*/64);
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().completed == posts.size(); },
                               std::chrono::seconds(60)))
      << pipeline_->stats().consumed << " consumed, " << pipeline_->stats().completed
      << " completed, " << consumer_->Snapshot().in_flight << " in flight, paused "
      << consumer_->Snapshot().paused;
  EXPECT_EQ(pipeline_->stats().consumed, posts.size());
  EXPECT_EQ(pipeline_->stats().hits_produced, 300u);
  EXPECT_GT(consumer_->Snapshot().pauses, 0u) << "the bound never paused the consumer";
}

TEST_F(PipelineTest, ABrokerOutageLosesNothing) {
  StartPipeline();
  ASSERT_TRUE(testing::WaitFor([&] { return consumer_->Snapshot().assigned; }));
  std::vector<std::string> posts;
  for (int i = 0; i < 100; ++i) posts.push_back(Post(i, "refund"));
  ProducePosts(posts);
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().consumed > 0; }));
  broker_->SetBrokerDown(1, true);
  // Produce errors while down; the producer retries, the consumer waits.
  broker_->PushRequestErrors(/*Produce=*/0, 5, /*NOT_LEADER_FOR_PARTITION=*/6);
  broker_->SetBrokerDown(1, false);
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().completed == posts.size(); },
                               std::chrono::seconds(60)));
  const auto hits = testing::ReadTopic(broker_->bootstrap(), "vigil.hits", 3, 100);
  std::set<std::string> post_ids;
  for (const auto& hit : hits)
    post_ids.insert(nlohmann::json::parse(hit.value)["post_id"].get<std::string>());
  EXPECT_EQ(post_ids.size(), 100u);
}

TEST_F(PipelineTest, AReloadSwapsTheRuleSetWithoutStopping) {
  StartPipeline();
  ProducePosts({Post(1, "refund"), Post(2, "chargeback")});
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().completed == 2; }));
  EXPECT_EQ(pipeline_->stats().hits, 1u);
  std::ofstream(dir_ / "rules.yaml") << std::string(kRules) + R"(
  - id: complaint.chargeback
    category: complaint
    severity: high
    owner: customer_service
    when: {any: [chargeback]}
)";
  const auto before = holder_->current()->hash();
  ASSERT_TRUE(holder_->Reload().ok);
  EXPECT_NE(holder_->current()->hash(), before);
  ProducePosts({Post(3, "chargeback")});
  ASSERT_TRUE(testing::WaitFor([&] { return pipeline_->stats().completed == 3; }));
  EXPECT_EQ(pipeline_->stats().hits, 2u);

  std::ofstream(dir_ / "rules.yaml") << "rules: [{id: broken, when: {any: ['re:(']}}]";
  const ReloadOutcome failed = holder_->Reload();
  EXPECT_FALSE(failed.ok);
  EXPECT_NE(failed.error.find("rules.yaml"), std::string::npos) << failed.error;
  EXPECT_EQ(failed.hash, holder_->current()->hash());  // the running set stays
  EXPECT_EQ(holder_->reloads_failed(), 1u);
}

}  // namespace
}  // namespace vigil::daemon
