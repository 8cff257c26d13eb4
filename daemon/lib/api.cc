#include "daemon/lib/api.h"

#include <charconv>
#include <cstdlib>

#include <hs/hs.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "connectors/discourse.h"
#include "connectors/hit_codec.h"
#include "connectors/kafka_config.h"
#include "daemon/lib/post_ingest.h"

namespace vigil::daemon {
namespace {

using nlohmann::json;

HttpResponse Json(int status, const json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

json StatusJson(const ApiContext& context) {
  const auto set = context.rules->current();
  json status = {
      {"version", VIGIL_VERSION},
      {"hyperscan", hs_version()},
      {"librdkafka", connectors::KafkaVersion()},
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
  return Json(200, {{"rule_set", set->hash()},
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
  return Json(200, {{"rule_set", set->hash()}, {"rules", rules}});
}

json IncidentJson(const alerts::Incident& i) {
  json j = {{"id", i.id},
            {"key", i.key},
            {"rule_id", i.rule_id},
            {"category", rules::CategoryName(i.category)},
            {"severity", rules::SeverityName(i.severity)},
            {"owner", i.owner},
            {"community", i.community},
            {"state", alerts::IncidentStateName(i.state)},
            {"opened_ms", i.opened_ms},
            {"updated_ms", i.updated_ms},
            {"last_hit_ms", i.last_hit_ms},
            {"hits", i.hits},
            {"escalation_level", i.escalation_level}};
  if (!i.acked_by.empty()) j["acknowledged"] = {{"by", i.acked_by}, {"at_ms", i.acked_ms}};
  if (!i.resolved_by.empty()) j["resolved"] = {{"by", i.resolved_by}, {"at_ms", i.resolved_ms}};
  return j;
}

// GET /api/v1/incidents?state=&category=&severity=&owner=&since_ms=&limit=
HttpResponse IncidentsList(const ApiContext& context, const HttpRequest& request) {
  alerts::IncidentFilter filter;
  if (std::string v = request.param("state"); !v.empty()) {
    filter.state = alerts::ParseIncidentState(v);
    if (!filter.state)
      return HttpResponse::JsonError(
          400, "state: expected open, acknowledged or resolved, got \"" + v + "\"");
  }
  if (std::string v = request.param("category"); !v.empty()) {
    filter.category = rules::ParseCategory(v);
    if (!filter.category)
      return HttpResponse::JsonError(400, "category: unknown category \"" + v + "\"");
  }
  if (std::string v = request.param("severity"); !v.empty()) {
    filter.severity = rules::ParseSeverity(v);
    if (!filter.severity)
      return HttpResponse::JsonError(400, "severity: unknown severity \"" + v + "\"");
  }
  filter.owner = request.param("owner");
  if (std::string v = request.param("since_ms"); !v.empty()) {
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), filter.since_ms);
    if (ec != std::errc() || end != v.data() + v.size() || filter.since_ms < 0) {
      return HttpResponse::JsonError(
          400, "since_ms: expected milliseconds since 1970, got \"" + v + "\"");
    }
  }
  if (std::string v = request.param("limit"); !v.empty()) {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 1000)
      return HttpResponse::JsonError(400, "limit: expected 1 to 1000");
    filter.limit = static_cast<int>(n);
  }
  auto incidents = context.store->ListIncidents(filter);
  if (!incidents.ok()) return HttpResponse::JsonError(503, incidents.error().message);
  json out = json::array();
  for (const alerts::Incident& i : *incidents) out.push_back(IncidentJson(i));
  return Json(200, {{"incidents", out}});
}

// /api/v1/incidents/{id}, /api/v1/incidents/{id}/ack, /api/v1/incidents/{id}/resolve
HttpResponse IncidentItem(const ApiContext& context, const HttpRequest& request) {
  std::string_view rest =
      std::string_view(request.path).substr(std::string_view("/api/v1/incidents/").size());
  std::string_view action;
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    action = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  int64_t id = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
  if (ec != std::errc() || end != rest.data() + rest.size() || id <= 0) {
    return HttpResponse::JsonError(404, "no such incident: " + std::string(rest));
  }
  if (request.method == "GET") {
    if (!action.empty()) return HttpResponse::JsonError(404, "no such path: " + request.path);
    auto detail = context.store->GetIncident(id);
    if (!detail.ok()) return HttpResponse::JsonError(503, detail.error().message);
    if (!detail->has_value())
      return HttpResponse::JsonError(404, "no such incident: " + std::to_string(id));
    json evidence = json::array(), timeline = json::array();
    for (const alerts::Evidence& e : (*detail)->evidence) {
      evidence.push_back({{"post_id", e.post_id},
                          {"url", e.url},
                          {"excerpt", e.excerpt},
                          {"content_hash", e.content_hash},
                          {"at_ms", e.at_ms}});
    }
    for (const alerts::AuditEntry& a : (*detail)->timeline) {
      timeline.push_back(
          {{"at_ms", a.at_ms}, {"actor", a.actor}, {"action", a.action}, {"detail", a.detail}});
    }
    json body = IncidentJson((*detail)->incident);
    body["evidence"] = evidence;
    body["timeline"] = timeline;
    return Json(200, body);
  }
  if (action != "ack" && action != "resolve")
    return HttpResponse::JsonError(404, "no such path: " + request.path);
  if (context.alerts == nullptr) return HttpResponse::JsonError(503, "incidents are not available");
  std::string comment;
  if (!request.body.empty()) {
    json in = json::parse(request.body, nullptr, false);
    if (!in.is_object() || (in.contains("comment") && !in["comment"].is_string())) {
      return HttpResponse::JsonError(
          400, "expected a JSON object, optionally with \"comment\": \"...\"");
    }
    comment = in.value("comment", "");
  }
  // Who acted: the API token's name once access control arrives; until then a header.
  std::string actor = request.header("x-vigil-actor");
  if (actor.empty()) actor = "api:" + request.remote;
  auto incident = action == "ack" ? context.alerts->Acknowledge(id, actor)
                                  : context.alerts->Resolve(id, actor, comment);
  if (!incident.ok()) return HttpResponse::JsonError(409, incident.error().message);
  spdlog::info("api: incident {} {} by {}", id, action == "ack" ? "acknowledged" : "resolved",
               actor);
  return Json(200, IncidentJson(*incident));
}

}  // namespace

void RegisterApi(HttpServer& server, ApiContext& context) {
  server.Route("GET", "/healthz", [](const HttpRequest&) { return Json(200, {{"status", "ok"}}); });
  server.Route("GET", "/readyz", [&context](const HttpRequest&) {
    json reasons = json::array();
    if (!context.rules->current()) reasons.push_back("no rule set loaded");
    if (context.consumer != nullptr && !context.consumer->Snapshot().assigned) {
      reasons.push_back("the consumer has no partitions assigned");
    }
    if (reasons.empty()) return Json(200, {{"status", "ready"}});
    return Json(503, {{"status", "not ready"}, {"reasons", reasons}});
  });
  server.Route("GET", "/api/v1/status",
               [&context](const HttpRequest&) { return Json(200, StatusJson(context)); });
  server.Route("GET", "/api/v1/rules",
               [&context](const HttpRequest&) { return RulesList(context); });
  server.Route("POST", "/api/v1/rules/test",
               [&context](const HttpRequest& request) { return RulesTest(context, request); });
  server.Route("POST", "/api/v1/rules/reload", [&context](const HttpRequest& request) {
    spdlog::info("api: rule reload requested by {}", request.remote);
    const ReloadOutcome outcome = context.reload();
    json body = {{"ok", outcome.ok},
                 {"rule_set", outcome.hash},
                 {"rules", outcome.rule_count},
                 {"seconds", outcome.seconds},
                 {"warnings", outcome.warnings}};
    if (!outcome.ok) body["error"] = outcome.error;
    return Json(outcome.ok ? 200 : 422, body);
  });
  server.Route("POST", "/api/v1/posts", [&context](const HttpRequest& request) {
    IngestOptions options;
    options.topic = context.config->kafka.topics.posts;
    options.limits = {context.config->pipeline.max_post_bytes,
                      static_cast<size_t>(context.config->pipeline.max_json_depth)};
    return HandleIngest(request, context.ingest_producer, options);
  });
  if (context.store != nullptr) {
    server.Route("GET", "/api/v1/incidents",
                 [&context](const HttpRequest& r) { return IncidentsList(context, r); });
    for (const char* method : {"GET", "POST"}) {
      server.Route(
          method, "/api/v1/incidents/",
          [&context](const HttpRequest& r) { return IncidentItem(context, r); },
          /*prefix=*/true);
    }
  }
  server.Route("POST", "/api/v1/ingest/discourse", [&context](const HttpRequest& request) {
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
      return Json(200, {{"ignored", translated->reason}});
    }
    if (context.ingest_producer == nullptr)
      return HttpResponse::JsonError(503, "ingest is not available");
    ProduceOutcome outcome =
        ProduceAndWait(*context.ingest_producer, context.config->kafka.topics.posts,
                       {{translated->post_id, translated->post_json}}, std::chrono::seconds(15));
    if (!outcome.error.empty())
      return HttpResponse::JsonError(503, "Kafka unavailable: " + outcome.error);
    return Json(202, {{"accepted", 1}, {"post_id", translated->post_id}});
  });
}

}  // namespace vigil::daemon
