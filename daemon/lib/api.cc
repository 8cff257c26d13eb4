#include "daemon/lib/api.h"

#include <charconv>
#include <cstdlib>

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "connectors/discourse.h"
#include "connectors/hit_codec.h"
#include "connectors/kafka_config.h"
#include "daemon/lib/audit_log.h"
#include "daemon/lib/auth.h"
#include "daemon/lib/post_ingest.h"
#include "daemon/lib/version.h"

namespace vigil::daemon {
namespace {

using nlohmann::json;

json StatusJson(const ApiContext& context) {
  const auto set = context.rules->current();
  const BuildVersionInfo versions = BuildVersions();
  json status = {
      {"version", versions.vigil},
      {"hyperscan", versions.hyperscan},
      {"re2", versions.re2},
      {"librdkafka", versions.librdkafka},
      {"uptime_s", std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now() - context.started)
                       .count()},
      {"rules",
       {{"loaded", set != nullptr},
        {"hash", set ? set->hash() : ""},
        {"count", set ? set->rules().size() : 0},
        {"paths", context.config->rules.paths},
        {"reloads_ok", context.rules->reloads_ok()},
        {"reloads_failed", context.rules->reloads_failed()}}},
      {"kafka",
       {{"bootstrap", context.bootstrap},
        {"embedded", context.config->kafka.embedded()},
        {"group_id", context.config->kafka.group_id},
        {"topics",
         {{"posts", context.config->kafka.topics.posts},
          {"hits", context.config->kafka.topics.hits},
          {"dlq", context.config->kafka.topics.dlq}}}}},
  };
  if (context.consumer != nullptr) {
    const connectors::ConsumerSnapshot snapshot = context.consumer->Snapshot();
    json partitions = json::array();
    int64_t total_lag = 0;
    for (const auto& p : snapshot.partitions) {
      partitions.push_back({{"partition", p.partition},
                            {"committed", p.committed},
                            {"high_watermark", p.high_watermark},
                            {"lag", p.lag}});
      if (p.lag > 0) total_lag += p.lag;
    }
    status["consumer"] = {{"assigned", snapshot.assigned},
                          {"partitions", partitions},
                          {"lag", total_lag},
                          {"in_flight", snapshot.in_flight},
                          {"paused", snapshot.paused},
                          {"consumed", snapshot.consumed},
                          {"rebalances", snapshot.rebalances}};
  }
  if (context.pipeline != nullptr) {
    const PipelineStats& s = context.pipeline->stats();
    json invalid = json::object();
    for (size_t i = 0; i < PipelineStats::kReasons; ++i) {
      invalid[std::string(connectors::InvalidReasonName(
          static_cast<connectors::InvalidReason>(i)))] = s.invalid[i].load();
    }
    status["pipeline"] = {{"workers", context.config->pipeline.worker_count()},
                          {"consumed", s.consumed.load()},
                          {"matched", s.matched.load()},
                          {"hits", s.hits.load()},
                          {"hits_produced", s.hits_produced.load()},
                          {"dead_lettered", s.dead_lettered.load()},
                          {"invalid", invalid},
                          {"delivery_failures", s.delivery_failures.load()},
                          {"completed", s.completed.load()},
                          {"queued", context.pipeline->queued()}};
  }
  if (context.alerts != nullptr) {
    const AlertSinkStats& a = context.alerts->stats();
    status["incidents"] = {{"active", context.alerts->active_incidents()},
                           {"commits", a.commits.load()},
                           {"commit_failures", a.commit_failures.load()},
                           {"replays_skipped", a.replays_skipped.load()}};
  }
  if (context.store != nullptr) {
    // What an SRE asks first when someone says "I was not paged".
    json paging = json::object();
    if (auto counts = context.store->CountOutbox(); counts.ok()) {
      paging["outbox"] = {
          {"pending", counts->pending}, {"delivered", counts->delivered}, {"dead", counts->dead}};
    }
    if (context.pager != nullptr) {
      const alerts::PagerStats& p = context.pager->stats();
      paging["sent"] = p.sent.load();
      paging["failed"] = p.failed.load();
      paging["digests"] = p.digests.load();
      paging["folded"] = p.folded.load();
      paging["failovers"] = p.failovers.load();
      paging["deferred"] = p.deferred.load();
      paging["nobody_to_page"] = p.nobody.load();
      paging["budget_remaining"] = context.pager->BudgetRemaining();
      paging["public_url"] = context.pager->public_url();
    }
    status["paging"] = paging;
  }
  return status;
}

// POST /api/v1/rules/test: {"text": "...", "title": "..."} or {"post": {...}} in; the
// hits of the running rule set with explanations, and the candidates it rejected, out.
HttpResponse RulesTest(const ApiContext& context, const HttpRequest& request) {
  const auto set = context.rules->current();
  if (!set) return HttpResponse::JsonError(503, "no rule set is loaded");
  json in = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded() || !in.is_object()) {
    return HttpResponse::JsonError(
        400, "expected a JSON object: {\"text\": \"...\"} or {\"post\": {...}}");
  }
  json post_json;
  if (in.contains("post")) {
    post_json = in["post"];
    if (!post_json.is_object()) return HttpResponse::JsonError(400, "post: expected an object");
    if (!post_json.contains("id")) post_json["id"] = "test";
  } else if (in.contains("text") && in["text"].is_string()) {
    post_json = {{"id", "test"}, {"body", in["text"]}};
    if (in.contains("title") && in["title"].is_string()) post_json["title"] = in["title"];
  } else {
    return HttpResponse::JsonError(400, "text: expected a string (or post: an object)");
  }
  const std::string text = post_json.dump(-1, ' ', false, json::error_handler_t::replace);
  connectors::PostDecoder decoder;
  connectors::PostView post;
  connectors::PostError error;
  if (!decoder.Decode(text, post, error)) {
    return HttpResponse::JsonError(
        400, std::string(connectors::InvalidReasonName(error.reason)) + ": " + error.detail);
  }
  std::vector<rules::FieldText> fields;
  std::string tags;
  post.MatchFields(fields, tags);
  rules::MatchScratch scratch;
  rules::MatchResult result;
  if (Status status = rules::MatchPost(*set, fields, scratch, result, {.explain = true});
      !status.ok()) {
    return HttpResponse::JsonError(400, status.error().message);
  }
  json hits = json::array();
  for (const rules::Hit& hit : result.hits)
    hits.push_back(json::parse(connectors::EncodeHit(post, hit, true)));
  json rejected = json::array();
  for (const rules::Rejection& r : result.rejections)
    rejected.push_back({{"rule_id", r.rule->def.id}, {"reason", r.reason}});
  return JsonResponse(200, {{"rule_set", set->hash()},
                            {"hits", hits},
                            {"rejected", rejected},
                            {"candidates", result.candidates}});
}

HttpResponse RulesList(const ApiContext& context) {
  const auto set = context.rules->current();
  if (!set) return HttpResponse::JsonError(503, "no rule set is loaded");
  json rules = json::array();
  for (const rules::CompiledRule& rule : set->rules()) {
    const rules::RuleDef& def = rule.def;
    rules.push_back({{"id", def.id},
                     {"category", rules::CategoryName(def.category)},
                     {"severity", rules::SeverityName(def.severity)},
                     {"owner", def.owner},
                     {"status", rules::StatusName(def.status)},
                     {"description", def.description},
                     {"tags", def.tags},
                     {"source", def.where.ToString()}});
  }
  return JsonResponse(200, {{"rule_set", set->hash()}, {"rules", rules}});
}

}  // namespace

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

namespace {

// GET /api/v1/audit?limit=N (default 100, at most 10000): the last lines, oldest first.
HttpResponse AuditTail(const ApiContext& context, const HttpRequest& request) {
  if (context.audit == nullptr) return HttpResponse::JsonError(503, "no audit log");
  size_t limit = 100;
  if (std::string v = request.param("limit"); !v.empty()) {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 10000)
      return HttpResponse::JsonError(400, "limit: expected 1 to 10000");
    limit = static_cast<size_t>(n);
  }
  auto lines = context.audit->Tail(limit);
  if (!lines.ok()) return HttpResponse::JsonError(503, lines.error().message);
  json entries = json::array();
  for (const std::string& line : *lines) {
    json entry = json::parse(line, nullptr, false);
    if (!entry.is_discarded()) entries.push_back(std::move(entry));
  }
  return JsonResponse(200, {{"entries", entries}});
}

}  // namespace

void RegisterApi(HttpServer& server, ApiContext& context) {
  std::shared_ptr<const AccessControl> open_access;
  if (context.access == nullptr)
    open_access =
        std::make_shared<AccessControl>(std::vector<ApiToken>{}, std::vector<std::string>{});
  server.SetGuard([&context, open_access](HttpRequest& request, const RouteAccess& access,
                                          const HttpHandler& handler) {
    const AccessControl& control = open_access ? *open_access : *context.access;
    return control.Guard(request, access, handler, context.audit);
  });
  // /healthz and /readyz (and /metrics) are served without a token when listed in
  // http.open_endpoints, as they are by default.
  server.Route("GET", "/healthz", {Role::kViewer}, [](const HttpRequest&) {
    return JsonResponse(200, {{"status", "ok"}});
  });
  server.Route("GET", "/readyz", {Role::kViewer}, [&context](const HttpRequest&) {
    json reasons = json::array();
    if (!context.rules->current()) reasons.push_back("no rule set loaded");
    if (context.consumer != nullptr && !context.consumer->Snapshot().assigned) {
      reasons.push_back("the consumer has no partitions assigned");
    }
    if (reasons.empty()) return JsonResponse(200, {{"status", "ready"}});
    return JsonResponse(503, {{"status", "not ready"}, {"reasons", reasons}});
  });
  server.Route("GET", "/api/v1/status", {Role::kViewer},
               [&context](const HttpRequest&) { return JsonResponse(200, StatusJson(context)); });
  server.Route("GET", "/api/v1/rules", {Role::kViewer},
               [&context](const HttpRequest&) { return RulesList(context); });
  server.Route("POST", "/api/v1/rules/test", {Role::kRuleAdmin},
               [&context](const HttpRequest& request) { return RulesTest(context, request); });
  const RouteAccess rule_admin{Role::kRuleAdmin};
  server.Route("POST", "/api/v1/rules/reload", rule_admin, [&context](const HttpRequest& request) {
    spdlog::info("api: rule reload requested by {} from {}", request.caller, request.remote);
    const ReloadOutcome outcome = context.reload();
    json body = {{"ok", outcome.ok},
                 {"rule_set", outcome.hash},
                 {"rules", outcome.rule_count},
                 {"seconds", outcome.seconds},
                 {"warnings", outcome.warnings}};
    if (!outcome.ok) body["error"] = outcome.error;
    return JsonResponse(outcome.ok ? 200 : 422, body);
  });
  server.Route("POST", "/api/v1/posts", {Role::kIngest}, [&context](const HttpRequest& request) {
    IngestOptions options;
    options.topic = context.config->kafka.topics.posts;
    options.limits = {context.config->pipeline.max_post_bytes,
                      static_cast<size_t>(context.config->pipeline.max_json_depth)};
    return HandleIngest(request, context.ingest_producer, options);
  });
  if (context.store != nullptr) RegisterIncidentApi(server, context);
  server.Route("GET", "/api/v1/audit", {Role::kAdmin},
               [&context](const HttpRequest& request) { return AuditTail(context, request); });
  // A webhook signed with connectors.discourse.secret proves itself (the handler checks the
  // HMAC); without a secret it needs an ingest token like any other post.
  const bool signed_webhook = !context.config->connectors.discourse.secret.empty();
  RouteAccess hook{Role::kIngest};
  if (signed_webhook) hook.self_authenticated = [](const HttpRequest&) { return true; };
  server.Route("POST", "/api/v1/ingest/discourse", hook, [&context](const HttpRequest& request) {
    // header() returns copies; keep them alive for the views of the request.
    const std::string event = request.header("x-discourse-event"),
                      instance = request.header("x-discourse-instance"),
                      signature = request.header("x-discourse-event-signature");
    auto translated = connectors::TranslateDiscourseWebhook(
        {event, instance, signature, request.body}, context.config->connectors.discourse.secret,
        context.config->connectors.discourse.community);
    if (!translated.ok()) {
      const bool auth = translated.error().message.find("signature") != std::string::npos;
      return HttpResponse::JsonError(auth ? 401 : 400, translated.error().message);
    }
    if (translated->outcome == connectors::DiscourseOutcome::kIgnored) {
      return JsonResponse(200, {{"ignored", translated->reason}});
    }
    if (context.ingest_producer == nullptr)
      return HttpResponse::JsonError(503, "ingest is not available");
    ProduceOutcome outcome =
        ProduceAndWait(*context.ingest_producer, context.config->kafka.topics.posts,
                       {{translated->post_id, translated->post_json}}, std::chrono::seconds(15));
    if (!outcome.error.empty())
      return HttpResponse::JsonError(503, "Kafka unavailable: " + outcome.error);
    return JsonResponse(202, {{"accepted", 1}, {"post_id", translated->post_id}});
  });
}

}  // namespace vigil::daemon
