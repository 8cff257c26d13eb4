#include "daemon/lib/daemon.h"

#include <pthread.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "alerts/state_store.h"
#include "connectors/embedded_broker.h"
#include "connectors/kafka_consumer.h"
#include "connectors/kafka_producer.h"
#include "daemon/lib/alert_sink.h"
#include "daemon/lib/api.h"
#include "daemon/lib/audit_log.h"
#include "daemon/lib/auth.h"
#include "daemon/lib/daemon_metrics.h"
#include "daemon/lib/demo_feed.h"
#include "daemon/lib/hit_sink.h"
#include "daemon/lib/http_server.h"
#include "daemon/lib/paging_service.h"
#include "daemon/lib/pipeline.h"
#include "daemon/lib/rule_holder.h"
#include "daemon/lib/tls_context.h"

namespace vigil::daemon {
namespace {

// "<N>" with the syslog priority of the level: under systemd (JOURNAL_STREAM set) journald
// reads it (SyslogLevelPrefix), so `journalctl -p warning` shows warnings and errors.
std::string_view SyslogPrefix(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return "<2>";
    case spdlog::level::err:
      return "<3>";
    case spdlog::level::warn:
      return "<4>";
    case spdlog::level::info:
      return "<6>";
    default:
      return "<7>";
  }
}

class SyslogPrefixFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string_view prefix = SyslogPrefix(msg.level);
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPrefixFlag>();
  }
};

// One JSON object per line: {"ts", "level", "msg", "thread"}; the message escaped.
class JsonFormatter : public spdlog::formatter {
 public:
  explicit JsonFormatter(bool syslog_prefix) : syslog_prefix_(syslog_prefix) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    if (syslog_prefix_) {
      const std::string_view prefix = SyslogPrefix(msg.level);
      dest.append(prefix.data(), prefix.data() + prefix.size());
    }
    const auto seconds = std::chrono::duration<double>(msg.time.time_since_epoch()).count();
    const nlohmann::json line = {{"ts", seconds},
                                 {"level", spdlog::level::to_string_view(msg.level).data()},
                                 {"msg", std::string_view(msg.payload.data(), msg.payload.size())},
                                 {"thread", msg.thread_id}};
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(syslog_prefix_);
  }

 private:
  bool syslog_prefix_;
};

}  // namespace

void SetUpLogging(const LogConfig& log) {
  auto logger =
      std::make_shared<spdlog::logger>("vigild", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  if (log.format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>(journald));
  } else {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<SyslogPrefixFlag>('*');
    formatter->set_pattern(journald ? "%*%Y-%m-%dT%H:%M:%S.%e%z %l %v"
                                    : "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    logger->set_formatter(std::move(formatter));
  }
  logger->set_level(spdlog::level::from_str(log.level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

int RunDaemon(const Config& config, const RunOptions& options) {
  // Signals are taken by sigwait() below; block them before any thread starts so no
  // other thread receives them.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SetUpLogging(config.log);
  spdlog::info("vigild {} starting", VIGIL_VERSION);

  std::error_code ec;
  std::filesystem::create_directories(config.state.dir, ec);
  if (ec) {
    spdlog::error("state.dir {}: cannot create: {}", config.state.dir, ec.message());
    return 1;
  }
  std::string cache_dir = config.rules_cache_dir();
  std::filesystem::create_directories(cache_dir, ec);
  if (ec) {
    spdlog::warn("rules cache {}: cannot create ({}); compiling without a cache", cache_dir,
                 ec.message());
    cache_dir.clear();
  }

  RuleHolder rules(config.rules.paths, cache_dir);
  if (!rules.Reload().ok) {
    spdlog::error("the rules did not load; vigild cannot start without a rule set");
    return 1;
  }
  auto paging = LoadPaging(config);
  if (!paging.ok()) {
    spdlog::error("the paging file is not valid:\n{}", paging.error().message);
    return 1;
  }
  if (!config.alerts.paging.empty()) {
    spdlog::info("paging: {} channels, {} people, {} roles, {} policies, {} routes from {}",
                 (*paging)->channels.size(), (*paging)->people.size(), (*paging)->roles.size(),
                 (*paging)->policies.size(), (*paging)->routes.size(), config.alerts.paging);
    for (const std::string& warning : CheckOwners(**paging, *rules.current())) {
      spdlog::warn("paging: {}", warning);
    }
  } else {
    spdlog::warn("paging: no alerts.paging file; incidents are recorded but nobody is paged");
  }
  auto access = AccessControl::FromConfig(config);
  if (!access.ok()) {
    spdlog::error("{}", access.error().message);
    return 1;
  }
  for (const std::string& warning : access->warnings()) spdlog::warn("{}", warning);
  if (!access->open()) spdlog::info("http: {} API tokens", access->token_count());
  const ServerTlsOptions tls{config.http.tls.cert_file, config.http.tls.key_file,
                             config.http.tls.client_ca_file};
  if (tls.enabled()) {
    if (auto context = MakeServerTlsContext(tls); !context.ok()) {
      spdlog::error("HTTPS cannot start:\n{}", context.error().message);
      return 1;
    }
  }
  if (options.check_only) {
    spdlog::info("configuration, rules, paging, API tokens{} are valid",
                 tls.enabled() ? " and TLS files" : "");
    return 0;
  }

  std::unique_ptr<connectors::EmbeddedBroker> embedded;
  std::string bootstrap = config.kafka.brokers;
  if (config.kafka.embedded()) {
    const int partitions = config.kafka.embedded_partitions;
    auto started = connectors::EmbeddedBroker::Start({{config.kafka.topics.posts, partitions},
                                                      {config.kafka.topics.hits, partitions},
                                                      {config.kafka.topics.dlq, 1}});
    if (!started.ok()) {
      spdlog::error("{}", started.error().message);
      return 1;
    }
    embedded = std::move(*started);
    bootstrap = embedded->bootstrap();
    spdlog::info(
        "embedded Kafka broker (in memory, for demos and tests) at {}; e.g. "
        "`vigilctl produce --brokers {} FILE` or `kcat -b {} -C -t {}`",
        bootstrap, bootstrap, bootstrap, config.kafka.topics.hits);
  }

  auto audit = AuditLog::Open(config.audit_file());
  if (!audit.ok()) {
    spdlog::error("{}", audit.error().message);
    return 1;
  }
  spdlog::info("audit log: {}", (*audit)->path());
  const std::string store_path = (std::filesystem::path(config.state.dir) / "vigil.db").string();
  auto store = alerts::OpenSqliteStore(store_path);
  if (!store.ok()) {
    spdlog::error("{}", store.error().message);
    return 1;
  }
  auto link_secret = LinkSecret(config);
  if (!link_secret.ok()) {
    spdlog::error("{}", link_secret.error().message);
    return 1;
  }
  alerts::PagerOptions pager_options;
  pager_options.public_url = config.alerts.public_url;
  // Links in pages: alerts.public_url, else the paging file's, else this listener (its
  // port once bound, for port 0).
  const bool derive_url = pager_options.public_url.empty() && (*paging)->public_url.empty();
  if (derive_url) {
    pager_options.public_url = config.http.scheme() + "://" + config.http.listen();
    if (config.http.host == "0.0.0.0" || config.http.host == "::") {
      spdlog::warn(
          "paging: links in pages point at {}, which people cannot open; set alerts.public_url",
          pager_options.public_url);
    }
  }
  pager_options.link_secret = *link_secret;
  PagingService paging_service(**store, SystemClock::Instance(), *paging, pager_options);
  Metrics metrics;

  AlertSinkOptions sink_options;
  sink_options.topic = config.kafka.topics.posts;
  sink_options.engine.policy_for = [paging = *paging](const alerts::Incident& incident) {
    return paging->PolicyFor(incident);
  };
  sink_options.on_outbox = [&paging_service] { paging_service.Wake(); };
  sink_options.log_hit_excerpts = config.log.hit_excerpts || !config.demo.feed.empty();
  sink_options.fence_replays = !config.kafka.embedded();
  sink_options.metrics = &metrics;
  AlertSink sink(**store, SystemClock::Instance(), sink_options);
  if (Status started = sink.Start(); !started.ok()) {
    spdlog::error("{}", started.error().message);
    return 1;
  }
  spdlog::info("state store: {}", store_path);
  paging_service.Start();

  connectors::ProducerOptions producer_options{bootstrap, config.kafka.properties,
                                               /*message_timeout_ms=*/0, "vigild"};
  auto producer = connectors::KafkaProducer::Create(producer_options);
  producer_options.message_timeout_ms = 10000;  // ingest answers 503 rather than wait forever
  producer_options.client_id = "vigild-ingest";
  auto ingest_producer = connectors::KafkaProducer::Create(producer_options);
  connectors::ConsumerOptions consumer_options;
  consumer_options.brokers = bootstrap;
  consumer_options.group_id = config.kafka.group_id;
  consumer_options.topic = config.kafka.topics.posts;
  consumer_options.properties = config.kafka.properties;
  if (config.kafka.embedded()) {
    // librdkafka's mock broker answers a fetch only when fetch.wait.max.ms (500 ms) runs
    // out, not when data arrives, which put 0-500 ms (median 250 ms) into every post's
    // end-to-end latency; real brokers answer at once. kafka.properties still wins.
    consumer_options.properties.try_emplace("fetch.wait.max.ms", "10");
  }
  consumer_options.max_in_flight = config.pipeline.queue_capacity;
  // Exactly-once effect on incidents: the consumer replays from Kafka's committed offset
  // (so every hit reaches the hits topic at least once), and the alert sink skips the
  // posts its store already applied. (ConsumerOptions::resume_offsets is the seam for a
  // store that owns the offsets outright, e.g. the PostgreSQL store for scale-out.)
  auto consumer = connectors::KafkaConsumer::Create(consumer_options);
  for (const Error* error : {producer.ok() ? nullptr : &producer.error(),
                             ingest_producer.ok() ? nullptr : &ingest_producer.error(),
                             consumer.ok() ? nullptr : &consumer.error()}) {
    if (error != nullptr) {
      spdlog::error("{}", error->message);
      return 1;
    }
  }

  PipelineOptions pipeline_options;
  pipeline_options.workers = config.pipeline.worker_count();
  pipeline_options.hits_topic = config.kafka.topics.hits;
  pipeline_options.dlq_topic = config.kafka.topics.dlq;
  pipeline_options.limits = {config.pipeline.max_post_bytes,
                             static_cast<size_t>(config.pipeline.max_json_depth)};
  pipeline_options.metrics = &metrics;
  Pipeline pipeline(pipeline_options, rules, **consumer, **producer, sink);

  HttpServerOptions http_options{config.http.host,
                                 config.http.port,
                                 config.http.max_body_bytes,
                                 config.http.max_connections,
                                 config.http.request_timeout,
                                 2};
  http_options.tls = tls;
  HttpServer http(http_options);
  ApiContext api;
  api.config = &config;
  api.bootstrap = bootstrap;
  api.rules = &rules;
  api.consumer = consumer->get();
  api.pipeline = &pipeline;
  api.ingest_producer = ingest_producer->get();
  api.reload = [&rules] { return rules.Reload(); };
  api.alerts = &sink;
  api.store = store->get();
  api.pager = &paging_service.pager();
  api.access = &*access;
  api.audit = audit->get();
  RegisterApi(http, api);
  RegisterMetricsRoute(http, metrics);
  AddDaemonSources(metrics,
                   {&pipeline, consumer->get(), producer->get(), config.kafka.topics.posts, &sink,
                    store->get(), store_path, &paging_service.pager(), &rules, &http});
  if (Status started = http.Start(); !started.ok()) {
    spdlog::error("{}", started.error().message);
    return 1;
  }
  if (derive_url && config.http.port == 0) {
    HttpConfig bound = config.http;
    bound.port = http.port();
    paging_service.pager().SetPublicUrl(config.http.scheme() + "://" + bound.listen());
  }

  pipeline.Start();
  std::unique_ptr<DemoFeed> demo;
  if (!config.demo.feed.empty()) {
    demo = std::make_unique<DemoFeed>(DemoFeedOptions{config.demo.feed, config.kafka.topics.posts,
                                                      config.demo.rate_per_s, config.demo.loop},
                                      **producer);
    if (Status started = demo->Start(); !started.ok()) {
      spdlog::error("{}", started.error().message);
      pipeline.Stop();
      return 1;
    }
  }
  spdlog::info(
      "vigild running: {} workers, posts from {} at {}, hits to {}, API at "
      "{}://{}:{}/api/v1/status",
      pipeline_options.workers, config.kafka.topics.posts, bootstrap, config.kafka.topics.hits,
      config.http.scheme(), config.http.host, http.port());

  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal == SIGHUP) {
      spdlog::info("SIGHUP: reloading rules{}", http.tls() ? " and the TLS certificate" : "");
      const ReloadOutcome outcome = rules.Reload();
      (*audit)->Record({.actor = "signal:SIGHUP",
                        .role = "",
                        .remote = "",
                        .action = "rules.reload",
                        .target = outcome.hash,
                        .status = outcome.ok ? 200 : 422,
                        .error = outcome.error});
      if (http.tls()) {
        if (Status reloaded = http.ReloadTls(); !reloaded.ok()) {
          spdlog::error("SIGHUP: keeping the TLS certificate in use:\n{}",
                        reloaded.error().message);
        } else {
          spdlog::info("SIGHUP: TLS certificate reloaded from {}", tls.cert_file);
        }
      }
      if (!config.http.tokens_file.empty()) {
        auto tokens = access->ReloadTokens(config);
        if (tokens.ok()) {
          spdlog::info("SIGHUP: {} API tokens (tokens file {} read again)", *tokens,
                       config.http.tokens_file);
        } else {
          spdlog::error("SIGHUP: keeping the API tokens in use:\n{}", tokens.error().message);
        }
        (*audit)->Record({.actor = "signal:SIGHUP",
                          .role = "",
                          .remote = "",
                          .action = "tokens.reload",
                          .target = config.http.tokens_file,
                          .status = tokens.ok() ? 200 : 422,
                          .error = tokens.ok() ? "" : tokens.error().message});
      }
      continue;
    }
    spdlog::info("{}: draining in-flight posts, committing, flushing",
                 signal == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }

  if (demo) demo->Stop();
  pipeline.Stop();  // stops consuming, waits for in-flight posts, commits their offsets
  sink.Stop();
  paging_service.Stop();
  if (!(*producer)->Flush(10000))
    spdlog::warn("some hits were not acknowledged before exit; their posts will be consumed again");
  (*ingest_producer)->Flush(5000);
  http.Stop();
  const PipelineStats& stats = pipeline.stats();
  spdlog::info("vigild stopped: {} posts consumed, {} hits, {} dead-lettered",
               stats.consumed.load(), stats.hits.load(), stats.dead_lettered.load());
  return 0;
}

}  // namespace vigil::daemon
