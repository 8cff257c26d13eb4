// The incidents API: list, detail (evidence, timeline, deliveries), acknowledge and
// resolve (also through signed links from pages), and silences.
#include <charconv>
#include <cstdlib>
#include <regex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "daemon/lib/api.h"

namespace vigil::daemon {
namespace {

using nlohmann::json;

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

HttpResponse Html(int status, std::string_view title, std::string_view body_html) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/html; charset=utf-8";
  response.body = fmt::format(
      "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width\"><title>{0}</title><style>body{{font-family:sans-serif;"
      "max-width:36em;margin:2em auto;padding:0 1em}}button{{font-size:1.2em;padding:.5em 1.5em}}"
      "</style></head><body><h1>{0}</h1>{1}</body></html>",
      HtmlEscape(title), body_html);
  // Never cached, never framed: the page carries a signed action.
  response.headers = {{"Cache-Control", "no-store"}, {"X-Frame-Options", "DENY"}};
  return response;
}

std::optional<int64_t> ParseId(std::string_view text) {
  int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

// Who acted: the token's name, or in open mode a description that says it is unchecked
// (set by the access guard).
std::string Actor(const HttpRequest& request) {
  return request.caller.empty() ? "unauthenticated (" + request.remote + ")" : request.caller;
}

// A signed acknowledge link from a page: its HMAC, checked by AckLink, is its credential.
bool IsSignedAckLink(const HttpRequest& request) {
  return request.path.ends_with("/ack") && !request.param("sig").empty();
}

json SilenceJson(const alerts::Silence& s, int64_t now_ms) {
  return {{"id", s.id},
          {"matchers", s.matchers},
          {"starts_ms", s.starts_ms},
          {"ends_ms", s.ends_ms},
          {"author", s.author},
          {"comment", s.comment},
          {"created_ms", s.created_ms},
          {"state", s.StateAt(now_ms)}};
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
  return JsonResponse(200, {{"incidents", out}});
}

// The acknowledge link of a page: GET shows what would be acknowledged and a button
// (link previews and mail scanners fetch links; a GET must change nothing); the button
// POSTs to the same signed URL, which acknowledges as the person the page was for.
HttpResponse AckLink(const ApiContext& context, const HttpRequest& request, int64_t id) {
  const std::string by = request.param("by"), sig = request.param("sig");
  if (context.pager == nullptr || !context.pager->CheckAck(id, by, sig)) {
    return Html(403, "Link not valid",
                "<p>This acknowledge link is not valid for this incident (it was changed, or "
                "the daemon's link key changed). Acknowledge in the console or with "
                "<code>vigilctl incidents ack</code>.</p>");
  }
  auto detail = context.store->GetIncident(id);
  if (!detail.ok())
    return Html(503, "Try again", "<p>" + HtmlEscape(detail.error().message) + "</p>");
  if (!detail->has_value()) return Html(404, "No such incident", "");
  const alerts::Incident& incident = (*detail)->incident;
  const std::string what =
      fmt::format("<p><b>[{}] {}</b>: {}{}<br>{} hits, state <b>{}</b></p>",
                  HtmlEscape(rules::SeverityName(incident.severity)),
                  HtmlEscape(rules::CategoryName(incident.category)), HtmlEscape(incident.rule_id),
                  incident.community.empty() ? "" : " in " + HtmlEscape(incident.community),
                  incident.hits, alerts::IncidentStateName(incident.state));
  if (request.method == "GET") {
    if (incident.state != alerts::IncidentState::kOpen) {
      return Html(200, fmt::format("Incident {}", id),
                  what + "<p>Nothing to do: it is " +
                      std::string(alerts::IncidentStateName(incident.state)) + ".</p>");
    }
    return Html(
        200, fmt::format("Acknowledge incident {}?", id),
        what + fmt::format("<form method=\"post\" action=\"{}?{}\"><button>Acknowledge as "
                           "{}</button></form><p>Escalation stops; the others paged are "
                           "told.</p>",
                           HtmlEscape(request.path), HtmlEscape(request.query), HtmlEscape(by)));
  }
  const bool html =
      request.header("content-type").starts_with("application/x-www-form-urlencoded") ||
      request.header("accept").find("text/html") != std::string::npos;
  if (incident.state == alerts::IncidentState::kAcknowledged && html) {
    // Two people pressed the button: tell the second who has it.
    return Html(200, fmt::format("Incident {} is already acknowledged", id),
                what + "<p>Acknowledged by " + HtmlEscape(incident.acked_by) + ".</p>");
  }
  auto acked = context.alerts->Acknowledge(id, by + " (page link)");
  if (!acked.ok()) {
    return html ? Html(409, "Not acknowledged", "<p>" + HtmlEscape(acked.error().message) + "</p>")
                : HttpResponse::JsonError(409, acked.error().message);
  }
  spdlog::info("api: incident {} acknowledged by {} through a page link", id, by);
  if (html) {
    return Html(200, fmt::format("Incident {} acknowledged", id),
                what + "<p>Acknowledged by " + HtmlEscape(by) + ". Escalation stopped.</p>");
  }
  return JsonResponse(200, IncidentJson(*acked));
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
  const std::optional<int64_t> parsed = ParseId(rest);
  if (!parsed) return HttpResponse::JsonError(404, "no such incident: " + std::string(rest));
  const int64_t id = *parsed;
  if (request.method == "GET" && action == "ack") {
    if (request.param("sig").empty())
      return HttpResponse::JsonError(405, "acknowledge with POST (or a signed link from a page)");
    return AckLink(context, request, id);
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
    json deliveries = json::array();
    for (const alerts::DeliveryStatus& d : (*detail)->deliveries) {
      deliveries.push_back({{"idempotency_key", d.idempotency_key},
                            {"kind", d.kind},
                            {"destination", d.destination},
                            {"state", d.state},
                            {"attempts", d.attempts},
                            {"last_error", d.last_error},
                            {"created_ms", d.created_ms},
                            {"updated_ms", d.updated_ms}});
    }
    json body = IncidentJson((*detail)->incident);
    body["tags"] = (*detail)->incident.tags;
    body["evidence"] = evidence;
    body["timeline"] = timeline;
    body["deliveries"] = deliveries;
    return JsonResponse(200, body);
  }
  if (action != "ack" && action != "resolve")
    return HttpResponse::JsonError(404, "no such path: " + request.path);
  if (context.alerts == nullptr) return HttpResponse::JsonError(503, "incidents are not available");
  if (action == "ack" && !request.param("sig").empty()) return AckLink(context, request, id);
  std::string comment;
  if (!request.body.empty()) {
    json in = json::parse(request.body, nullptr, false);
    if (!in.is_object() || (in.contains("comment") && !in["comment"].is_string())) {
      return HttpResponse::JsonError(
          400, "expected a JSON object, optionally with \"comment\": \"...\"");
    }
    comment = in.value("comment", "");
  }
  const std::string actor = Actor(request);
  auto incident = action == "ack" ? context.alerts->Acknowledge(id, actor)
                                  : context.alerts->Resolve(id, actor, comment);
  if (!incident.ok()) return HttpResponse::JsonError(409, incident.error().message);
  spdlog::info("api: incident {} {} by {}", id, action == "ack" ? "acknowledged" : "resolved",
               actor);
  return JsonResponse(200, IncidentJson(*incident));
}

// "90s", "30m", "2h", "1d" -> milliseconds.
std::optional<int64_t> ParseDurationMs(const std::string& text) {
  static const std::regex kDuration("^([0-9]{1,6})([smhd])$");
  std::smatch m;
  if (!std::regex_match(text, m, kDuration)) return std::nullopt;
  const int64_t unit = m[2] == "s" ? 1000 : m[2] == "m" ? 60000 : m[2] == "h" ? 3600000 : 86400000;
  return std::stoll(m[1].str()) * unit;
}

// GET /api/v1/silences?state=active|pending|expired|all (default: active and pending)
HttpResponse SilencesList(const ApiContext& context, const HttpRequest& request) {
  const std::string state = request.param("state");
  if (!state.empty() && state != "active" && state != "pending" && state != "expired" &&
      state != "all") {
    return HttpResponse::JsonError(
        400, "state: expected active, pending, expired or all, got \"" + state + "\"");
  }
  const int64_t now_ms = context.alerts->clock().NowMillis();
  json out = json::array();
  for (const alerts::Silence& silence : context.alerts->Silences()) {
    const std::string_view s = silence.StateAt(now_ms);
    if (state.empty() ? s == "expired" : state != "all" && s != state) continue;
    out.push_back(SilenceJson(silence, now_ms));
  }
  return JsonResponse(200, {{"silences", out}});
}

// POST /api/v1/silences {"matchers": {...}, "comment": "...", "duration": "2h" | "ends_ms",
// "starts_ms"?, "author"?}
HttpResponse SilenceCreate(const ApiContext& context, const HttpRequest& request) {
  const json in = json::parse(request.body, nullptr, false);
  if (!in.is_object()) return HttpResponse::JsonError(400, "expected a JSON object");
  alerts::Silence silence;
  if (!in.contains("matchers") || !in["matchers"].is_object())
    return HttpResponse::JsonError(
        400, "matchers: expected an object such as {\"rule\": \"privacy.*\"}");
  for (const auto& [field, value] : in["matchers"].items()) {
    if (!value.is_string())
      return HttpResponse::JsonError(400, "matchers." + field + ": expected a string");
    silence.matchers[field] = value.get<std::string>();
  }
  for (const char* key : {"comment", "author", "duration"}) {
    if (in.contains(key) && !in[key].is_string())
      return HttpResponse::JsonError(400, std::string(key) + ": expected a string");
  }
  for (const char* key : {"starts_ms", "ends_ms"}) {
    if (in.contains(key) && !in[key].is_number_integer())
      return HttpResponse::JsonError(400, std::string(key) + ": expected milliseconds since 1970");
  }
  silence.comment = in.value("comment", "");
  // The author is who calls. Without tokens a claimed author is kept, marked unchecked.
  silence.author = Actor(request);
  if (const std::string claimed = in.value("author", "");
      request.caller_role == "open" && !claimed.empty()) {
    silence.author = claimed + " (unauthenticated, " + request.remote + ")";
  }
  const int64_t now_ms = context.alerts->clock().NowMillis();
  silence.starts_ms = in.value("starts_ms", int64_t{0});
  if (silence.starts_ms == 0) silence.starts_ms = now_ms;
  if (in.contains("duration")) {
    const auto duration = ParseDurationMs(in["duration"].get<std::string>());
    if (!duration)
      return HttpResponse::JsonError(400, "duration: expected e.g. 90s, 30m, 2h or 1d");
    silence.ends_ms = silence.starts_ms + *duration;
  } else if (in.contains("ends_ms")) {
    silence.ends_ms = in["ends_ms"].get<int64_t>();
  } else {
    return HttpResponse::JsonError(400, "duration or ends_ms: how long the silence lasts");
  }
  auto added = context.alerts->AddSilence(std::move(silence));
  if (!added.ok()) return HttpResponse::JsonError(400, added.error().message);
  spdlog::info("api: silence {} created by {}: {}", added->id, added->author, added->comment);
  return JsonResponse(201, SilenceJson(*added, context.alerts->clock().NowMillis()));
}

// DELETE /api/v1/silences/{id}: expires it now (kept, listed as expired).
HttpResponse SilenceExpire(const ApiContext& context, const HttpRequest& request) {
  const std::string_view rest =
      std::string_view(request.path).substr(std::string_view("/api/v1/silences/").size());
  const std::optional<int64_t> id = ParseId(rest);
  if (!id) return HttpResponse::JsonError(404, "no such silence: " + std::string(rest));
  const std::string actor = Actor(request);
  auto expired = context.alerts->ExpireSilence(*id, actor);
  if (!expired.ok()) return HttpResponse::JsonError(404, expired.error().message);
  spdlog::info("api: silence {} expired by {}", *id, actor);
  return JsonResponse(200, SilenceJson(*expired, context.alerts->clock().NowMillis()));
}

}  // namespace

void RegisterIncidentApi(HttpServer& server, ApiContext& context) {
  server.Route("GET", "/api/v1/incidents", {Role::kViewer},
               [&context](const HttpRequest& r) { return IncidentsList(context, r); });
  // Details (GET) need a viewer, acknowledge and resolve (POST) a responder; a signed
  // acknowledge link (GET shows it, POST acts) needs neither.
  for (const auto& [method, role] :
       {std::pair{"GET", Role::kViewer}, std::pair{"POST", Role::kResponder}}) {
    server.Route(
        method, "/api/v1/incidents/", {role, IsSignedAckLink},
        [&context](const HttpRequest& r) { return IncidentItem(context, r); },
        /*prefix=*/true);
  }
  if (context.alerts == nullptr) return;
  server.Route("GET", "/api/v1/silences", {Role::kViewer},
               [&context](const HttpRequest& r) { return SilencesList(context, r); });
  server.Route("POST", "/api/v1/silences", {Role::kResponder},
               [&context](const HttpRequest& r) { return SilenceCreate(context, r); });
  server.Route(
      "DELETE", "/api/v1/silences/", {Role::kResponder},
      [&context](const HttpRequest& r) { return SilenceExpire(context, r); }, /*prefix=*/true);
}

}  // namespace vigil::daemon
