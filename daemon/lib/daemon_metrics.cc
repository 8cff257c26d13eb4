#include "daemon/lib/daemon_metrics.h"

#include <filesystem>

#include "connectors/post.h"
#include "daemon/lib/version.h"
#include "rules/rule.h"

namespace vigil::daemon {
namespace {

using prometheus::MetricType;

constexpr char kQueueDepthHelp[] = "Items waiting in an internal queue (see docs/metrics.md).";

void WriteBuildInfo(MetricWriter& out) {
  const BuildVersionInfo versions = BuildVersions();
  out.Gauge("vigil_build_info",
            "Always 1; the labels name the versions of Vigil and of its matching and Kafka "
            "libraries.",
            1,
            {{"version", versions.vigil},
             {"hyperscan", versions.hyperscan},
             {"re2", versions.re2},
             {"librdkafka", versions.librdkafka}});
}

void WritePipeline(MetricWriter& out, const Pipeline& pipeline) {
  const PipelineStats& s = pipeline.stats();
  out.Counter("vigil_posts_consumed_total", "Messages consumed from the posts topic.",
              static_cast<double>(s.consumed.load()));
  out.Counter("vigil_posts_matched_total", "Valid posts matched against the rule set.",
              static_cast<double>(s.matched.load()));
  for (size_t r = 0; r < PipelineStats::kReasons; ++r) {
    out.Counter(
        "vigil_posts_invalid_total",
        "Messages that were not valid posts, by reason (each goes to the dead-letter "
        "topic).",
        static_cast<double>(s.invalid[r].load()),
        {{"reason",
          std::string(connectors::InvalidReasonName(static_cast<connectors::InvalidReason>(r)))}});
  }
  out.Counter("vigil_posts_dead_lettered_total",
              "Invalid posts acknowledged by Kafka on the dead-letter topic.",
              static_cast<double>(s.dead_lettered.load()));
  out.Counter("vigil_hits_produced_total", "Hits acknowledged by Kafka on the hits topic.",
              static_cast<double>(s.hits_produced.load()));
  out.Counter("vigil_kafka_delivery_failures_total",
              "Hits or dead-letter copies Kafka did not acknowledge (their posts are consumed "
              "again).",
              static_cast<double>(s.delivery_failures.load()));
  out.Gauge("vigil_queue_depth", kQueueDepthHelp, static_cast<double>(pipeline.queued()),
            {{"queue", "workers"}});
}

void WriteConsumer(MetricWriter& out, const connectors::KafkaConsumer& consumer,
                   const std::string& topic) {
  const connectors::ConsumerSnapshot snapshot = consumer.Snapshot();
  out.Declare("vigil_consumer_lag_messages",
              "Messages in a partition not yet consumed (high watermark minus position), by "
              "partition assigned to this daemon.",
              MetricType::Gauge);
  for (const connectors::PartitionStatus& p : snapshot.partitions) {
    if (p.lag < 0) continue;
    out.Gauge("vigil_consumer_lag_messages", "", static_cast<double>(p.lag),
              {{"topic", topic}, {"partition", std::to_string(p.partition)}});
  }
  out.Gauge("vigil_consumer_assigned_partitions", "Partitions of the posts topic assigned here.",
            static_cast<double>(snapshot.partitions.size()));
  out.Counter("vigil_consumer_rebalances_total", "Consumer group rebalances seen.",
              static_cast<double>(snapshot.rebalances));
  out.Gauge("vigil_queue_depth", kQueueDepthHelp, static_cast<double>(snapshot.in_flight),
            {{"queue", "kafka_in_flight"}});
}

void WriteSink(MetricWriter& out, const AlertSink& sink) {
  const AlertSinkStats& s = sink.stats();
  out.Gauge("vigil_queue_depth", kQueueDepthHelp, static_cast<double>(sink.queued()),
            {{"queue", "alert_sink"}});
  out.Counter("vigil_state_commits_total", "State-store transactions committed.",
              static_cast<double>(s.commits.load()));
  out.Counter("vigil_state_commit_failures_total",
              "State-store transactions that failed (the batch is retried).",
              static_cast<double>(s.commit_failures.load()));
  out.Counter("vigil_posts_replayed_total",
              "Posts consumed again after a restart whose hits the store had already applied "
              "(skipped).",
              static_cast<double>(s.replays_skipped.load()));
  out.Declare("vigil_incidents_open",
              "Incidents not yet resolved, by category, severity and state (open or "
              "acknowledged).",
              MetricType::Gauge);
  for (const auto& [key, count] : sink.ActiveIncidentCounts()) {
    const auto& [category, severity, state] = key;
    out.Gauge("vigil_incidents_open", "", static_cast<double>(count),
              {{"category", std::string(rules::CategoryName(category))},
               {"severity", std::string(rules::SeverityName(severity))},
               {"state", std::string(alerts::IncidentStateName(state))}});
  }
}

void WritePaging(MetricWriter& out, alerts::StateStore* store, alerts::Pager* pager) {
  if (store != nullptr) {
    if (auto counts = store->CountOutbox(); counts.ok()) {
      out.Gauge("vigil_outbox_pending", "Pages and notices waiting in the outbox to be delivered.",
                static_cast<double>(counts->pending));
      out.Gauge("vigil_outbox_dead",
                "Deliveries that gave up after their retries (kept in the outbox, shown in the "
                "incident's timeline).",
                static_cast<double>(counts->dead));
    }
  }
  if (pager == nullptr) return;
  out.Declare("vigil_pages_total",
              "Deliveries by channel and outcome: sent, failed (an attempt; retried), dead, "
              "folded (into a digest), failover, deferred (for the rate budget).",
              MetricType::Counter);
  for (const auto& [channel, c] : pager->channel_stats()) {
    for (const auto& [outcome, value] : {std::pair<const char*, uint64_t>{"sent", c.sent.load()},
                                         {"failed", c.failed.load()},
                                         {"dead", c.dead.load()},
                                         {"folded", c.folded.load()},
                                         {"failover", c.failover.load()},
                                         {"deferred", c.deferred.load()}}) {
      out.Counter("vigil_pages_total", "", static_cast<double>(value),
                  {{"channel", channel}, {"outcome", outcome}});
    }
  }
  out.Counter("vigil_pages_nobody_total",
              "Pages and reminders that found nobody to page (no route, nobody on call, every "
              "role in quiet hours).",
              static_cast<double>(pager->stats().nobody.load()));
  out.Counter("vigil_page_digests_total", "Digest messages sent when a channel's budget was short.",
              static_cast<double>(pager->stats().digests.load()));
  out.Declare("vigil_robot_budget_remaining",
              "Messages a rate-limited channel (chat robot) may still send now.",
              MetricType::Gauge);
  for (const auto& [channel, remaining] : pager->BudgetRemaining()) {
    out.Gauge("vigil_robot_budget_remaining", "", remaining, {{"channel", channel}});
  }
}

void WriteStoreSize(MetricWriter& out, const std::string& path) {
  double bytes = 0;
  for (const std::string& file : {path, path + "-wal"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (!ec) bytes += static_cast<double>(size);
  }
  out.Gauge("vigil_state_store_bytes",
            "Size of the SQLite state store on disk, its write-ahead log included. Nothing is "
            "pruned yet: it grows with incidents and their evidence.",
            bytes);
}

void WriteRules(MetricWriter& out, const RuleHolder& rules) {
  if (auto set = rules.current()) {
    out.Gauge("vigil_rules_loaded", "Enabled rules in the running rule set.",
              static_cast<double>(set->rules().size()));
    out.Gauge("vigil_rule_set_info", "Always 1; the running rule set's content hash.", 1,
              {{"hash", set->hash().substr(0, 16)}});
  }
  out.Counter("vigil_rule_reloads_total", "Rule set loads by outcome (the first load included).",
              static_cast<double>(rules.reloads_ok()), {{"outcome", "ok"}});
  out.Counter("vigil_rule_reloads_total", "", static_cast<double>(rules.reloads_failed()),
              {{"outcome", "failed"}});
  const ReloadOutcome last = rules.last_outcome();
  out.Gauge("vigil_rules_last_reload_success",
            "1 when the last load of the rule set succeeded, 0 when it was rejected (the previous "
            "set keeps running).",
            last.ok ? 1 : 0);
  out.Gauge("vigil_rules_last_reload_timestamp_seconds",
            "When the last load of the rule set finished, successful or not.", last.finished_at);
}

void WriteHttp(MetricWriter& out, const HttpServer& http) {
  out.Declare("vigil_http_requests_total",
              "HTTP responses by route (the registered path) and status code.",
              MetricType::Counter);
  for (const auto& [key, count] : http.ResponseCounts()) {
    out.Counter("vigil_http_requests_total", "", static_cast<double>(count),
                {{"route", key.first}, {"code", std::to_string(key.second)}});
  }
  out.Gauge("vigil_http_connections", "Open HTTP connections.", http.connections());
  out.Counter("vigil_http_tls_handshake_failures_total",
              "TLS handshakes that failed (plain HTTP on the HTTPS port, an untrusted client "
              "certificate, a client that went silent); 0 without TLS.",
              static_cast<double>(http.tls_handshake_failures()));
}

}  // namespace

void AddDaemonSources(Metrics& metrics, const MetricSources& sources) {
  metrics.AddSource([sources](MetricWriter& out) {
    WriteBuildInfo(out);
    if (sources.pipeline != nullptr) WritePipeline(out, *sources.pipeline);
    if (sources.consumer != nullptr) WriteConsumer(out, *sources.consumer, sources.topic);
    if (sources.producer != nullptr) {
      out.Gauge("vigil_queue_depth", kQueueDepthHelp, sources.producer->outstanding(),
                {{"queue", "kafka_producer"}});
    }
    if (sources.sink != nullptr) WriteSink(out, *sources.sink);
    WritePaging(out, sources.store, sources.pager);
    if (!sources.store_path.empty()) WriteStoreSize(out, sources.store_path);
    if (sources.rules != nullptr) WriteRules(out, *sources.rules);
    if (sources.http != nullptr) WriteHttp(out, *sources.http);
    WriteProcessMetrics(out);
  });
}

void RegisterMetricsRoute(HttpServer& http, const Metrics& metrics) {
  // Open without a token while http.open_endpoints lists it (the default); else viewer.
  http.Route("GET", "/metrics", {Role::kViewer}, [&metrics](const HttpRequest&) {
    HttpResponse response;
    response.content_type = Metrics::kContentType;
    response.body = metrics.Render();
    return response;
  });
}

}  // namespace vigil::daemon
