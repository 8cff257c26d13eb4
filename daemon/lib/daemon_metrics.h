// The daemon's metric sources: what the pipeline, the consumer, the alert sink, the
// pager, the rule holder and the HTTP server count, read at scrape time into /metrics.
// The reference of every metric is docs/metrics.md (a test checks both agree).
#pragma once

#include <string>

#include "alerts/pager.h"
#include "alerts/state_store.h"
#include "connectors/kafka_consumer.h"
#include "connectors/kafka_producer.h"
#include "daemon/lib/alert_sink.h"
#include "daemon/lib/http_server.h"
#include "daemon/lib/metrics.h"
#include "daemon/lib/pipeline.h"
#include "daemon/lib/rule_holder.h"

namespace vigil::daemon {

// Any part may be null (tests, or a daemon without it); its metrics are then absent.
struct MetricSources {
  const Pipeline* pipeline = nullptr;
  const connectors::KafkaConsumer* consumer = nullptr;
  const connectors::KafkaProducer* producer = nullptr;
  std::string topic;  // the posts topic, for lag labels
  const AlertSink* sink = nullptr;
  alerts::StateStore* store = nullptr;
  std::string store_path;  // the SQLite file, for its size (its -wal beside it counts too)
  alerts::Pager* pager = nullptr;
  const RuleHolder* rules = nullptr;
  const HttpServer* http = nullptr;
};

// Adds the sources, the build info and the process metrics to `metrics`. The parts must
// outlive `metrics`' last Render().
void AddDaemonSources(Metrics& metrics, const MetricSources& sources);

// GET /metrics on `http`.
void RegisterMetricsRoute(HttpServer& http, const Metrics& metrics);

}  // namespace vigil::daemon
