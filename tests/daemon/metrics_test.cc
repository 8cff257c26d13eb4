// /metrics: the exposition format, per-rule counters that survive reloads, and the
// daemon's sources read at scrape time through a real HTTP server.
#include "daemon/lib/metrics.h"

#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/lib/daemon_metrics.h"
#include "daemon/lib/http_server.h"
#include "daemon/lib/rule_holder.h"
#include "tests/testing/http_client.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"

namespace vigil::daemon {
namespace {

constexpr char kOneRule[] = R"(
rules:
  - id: complaint.refund
    category: complaint
    severity: medium
    owner: customer_service
    when: {all: [refund]}
)";

constexpr char kTwoRules[] = R"(
rules:
  - id: complaint.refund
    category: complaint
    severity: medium
    owner: customer_service
    when: {all: [refund]}
  - id: privacy.leak
    category: privacy_leak
    severity: high
    owner: legal
    when: {all: [password]}
)";

TEST(MetricWriterTest, SamplesOfOneNameFormOneFamilyNamedByTheFirstHelpText) {
  MetricWriter writer;
  writer.Gauge("vigil_queue_depth", "", 3, {{"queue", "workers"}});
  writer.Gauge("vigil_queue_depth", "Items waiting.", 4, {{"queue", "alert_sink"}});
  writer.Declare("vigil_pages_total", "Deliveries.", prometheus::MetricType::Counter);
  const auto families = writer.Take();
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].name, "vigil_queue_depth");
  EXPECT_EQ(families[0].help, "Items waiting.");
  EXPECT_EQ(families[0].metric.size(), 2u);
  EXPECT_EQ(families[1].name, "vigil_pages_total");
  EXPECT_TRUE(families[1].metric.empty());
}

TEST(MetricsTest, PerRuleCountersKeepCountingAcrossAReload) {
  testing::TempDir dir;
  std::ofstream(dir / "rules.yaml") << kOneRule;
  RuleHolder holder({(dir / "rules.yaml").string()}, "");
  ASSERT_TRUE(holder.Reload().ok);
  Metrics metrics;
  auto first = metrics.CountersFor(*holder.current());
  ASSERT_EQ(first->hits.size(), 1u);
  first->hits[0]->Increment(2);
  first->candidates[0]->Increment(5);
  EXPECT_EQ(metrics.CountersFor(*holder.current()), first) << "same set, same table";

  std::ofstream(dir / "rules.yaml") << kTwoRules;
  ASSERT_TRUE(holder.Reload().ok);
  auto second = metrics.CountersFor(*holder.current());
  ASSERT_EQ(second->hits.size(), 2u);
  const auto& rules = holder.current()->rules();
  const size_t refund = rules[0].def.id == "complaint.refund" ? 0 : 1;
  second->hits[refund]->Increment();

  const auto text = testing::ParseExposition(metrics.Render());
  EXPECT_EQ(
      text.Value("vigil_hits_total",
                 {{"rule", "complaint.refund"}, {"category", "complaint"}, {"severity", "medium"}}),
      3.0);
  EXPECT_EQ(text.Value("vigil_hits_total", {{"rule", "privacy.leak"}, {"severity", "high"}}), 0.0);
  EXPECT_EQ(text.Value("vigil_rule_candidates_total", {{"rule", "complaint.refund"}}), 5.0);
  EXPECT_EQ(text.types.at("vigil_hits_total"), "counter");
  EXPECT_EQ(text.types.at("vigil_match_duration_seconds"), "histogram");
}

TEST(MetricsTest, HistogramsUseSecondsAndTheirBuckets) {
  Metrics metrics;
  metrics.end_to_end_latency().Observe(0.3);
  metrics.end_to_end_latency().Observe(7);
  const auto text = testing::ParseExposition(metrics.Render());
  EXPECT_EQ(text.Value("vigil_end_to_end_latency_seconds_bucket", {{"le", "0.25"}}), 0.0);
  EXPECT_EQ(text.Value("vigil_end_to_end_latency_seconds_bucket", {{"le", "0.5"}}), 1.0);
  EXPECT_EQ(text.Value("vigil_end_to_end_latency_seconds_bucket", {{"le", "5"}}), 1.0);
  EXPECT_EQ(text.Value("vigil_end_to_end_latency_seconds_bucket", {{"le", "10"}}), 2.0);
  EXPECT_EQ(text.Value("vigil_end_to_end_latency_seconds_count"), 2.0);
  EXPECT_DOUBLE_EQ(*text.Value("vigil_end_to_end_latency_seconds_sum"), 7.3);
}

TEST(MetricsTest, AHistogramSumsTheShardsOfEveryThread) {
  AtomicHistogram histogram("h_seconds", "h", {0.1, 1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {  // more threads than shards: some share one
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) histogram.Observe(i % 2 == 0 ? 0.05 : 1);
    });
  }
  for (auto& thread : threads) thread.join();
  histogram.Observe(5);
  const prometheus::MetricFamily family = histogram.Collect();
  ASSERT_EQ(family.metric.size(), 1u);
  const auto& h = family.metric[0].histogram;
  ASSERT_EQ(h.bucket.size(), 3u);
  EXPECT_EQ(h.bucket[0].cumulative_count, 6000u);   // le 0.1
  EXPECT_EQ(h.bucket[1].cumulative_count, 12000u);  // le 1: a value on the bound counts
  EXPECT_EQ(h.bucket[2].cumulative_count, 12001u);  // +Inf
  EXPECT_EQ(h.sample_count, 12001u);
  EXPECT_NEAR(h.sample_sum, 6000 * 0.05 + 6000 * 1.0 + 5, 1e-6);  // a sum of doubles
}

TEST(MetricsTest, TheDaemonsSourcesAreServedAtSlashMetrics) {
  testing::TempDir dir;
  std::ofstream(dir / "rules.yaml") << kOneRule;
  RuleHolder holder({(dir / "rules.yaml").string()}, "");
  ASSERT_TRUE(holder.Reload().ok);
  std::ofstream(dir / "rules.yaml") << "rules: [{id: broken";
  ASSERT_FALSE(holder.Reload().ok);

  HttpServer http({"127.0.0.1", 0});
  Metrics metrics;
  RegisterMetricsRoute(http, metrics);
  std::ofstream(dir / "vigil.db") << std::string(4096, 'x');
  std::ofstream(dir / "vigil.db-wal") << std::string(1000, 'y');
  MetricSources sources;
  sources.store_path = (dir / "vigil.db").string();
  sources.rules = &holder;
  sources.http = &http;
  AddDaemonSources(metrics, sources);
  ASSERT_TRUE(http.Start().ok());

  EXPECT_EQ(testing::HttpCall(http.port(), "GET", "/no/such/path").status, 404);
  const auto response = testing::HttpCall(http.port(), "GET", "/metrics");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.headers.at("Content-Type"), Metrics::kContentType);
  const auto text = testing::ParseExposition(response.body);
  EXPECT_EQ(text.Value("vigil_rules_loaded"), 1.0);
  EXPECT_EQ(text.Value("vigil_rule_reloads_total", {{"outcome", "ok"}}), 1.0);
  EXPECT_EQ(text.Value("vigil_rule_reloads_total", {{"outcome", "failed"}}), 1.0);
  EXPECT_EQ(text.Value("vigil_rules_last_reload_success"), 0.0) << "the last reload failed";
  EXPECT_GT(*text.Value("vigil_rules_last_reload_timestamp_seconds"), 1.7e9);
  EXPECT_EQ(text.Value("vigil_rule_set_info", {{"hash", holder.current()->hash().substr(0, 16)}}),
            1.0);
  EXPECT_EQ(text.Value("vigil_http_requests_total", {{"route", "unmatched"}, {"code", "404"}}),
            1.0);
  EXPECT_GE(text.Value("vigil_http_connections"), 1.0);
  EXPECT_EQ(text.Value("vigil_state_store_bytes"), 5096.0) << "the file and its WAL";
  EXPECT_EQ(text.Value("vigil_http_tls_handshake_failures_total"), 0.0) << "no TLS here";
  EXPECT_GT(*text.Value("process_resident_memory_bytes"), 1e6);
  EXPECT_GT(*text.Value("process_open_fds"), 2.0);
  ASSERT_EQ(text.Value("vigil_build_info"), 1.0);
  for (const testing::Sample& s : text.samples) {
    if (s.name != "vigil_build_info") continue;
    EXPECT_EQ(s.labels.at("version"), VIGIL_VERSION);
    EXPECT_FALSE(s.labels.at("hyperscan").empty());
    EXPECT_FALSE(s.labels.at("re2").empty());
    EXPECT_FALSE(s.labels.at("librdkafka").empty());
  }
  // Families with nothing yet still say what they are.
  EXPECT_EQ(text.types.count("vigil_match_duration_seconds"), 1u);
  // The second scrape counts the first.
  const auto again =
      testing::ParseExposition(testing::HttpCall(http.port(), "GET", "/metrics").body);
  EXPECT_EQ(again.Value("vigil_http_requests_total", {{"route", "/metrics"}, {"code", "200"}}),
            1.0);
  http.Stop();
}

}  // namespace
}  // namespace vigil::daemon
