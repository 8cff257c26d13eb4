#include "alerts/pagerduty_notifier.h"

#include "alerts/notification_format.h"

namespace vigil::alerts {

namespace {

using nlohmann::json;

constexpr size_t kSummaryBytes = 1024;  // PagerDuty truncates longer summaries

std::string_view EventAction(const Notification& n) {
  if (n.kind == "resolve") return "resolve";
  if (n.kind == "acknowledge") return "acknowledge";
  return "trigger";
}

class PagerDutyNotifier : public Notifier {
 public:
  explicit PagerDutyNotifier(PagerDutyConfig config) : config_(std::move(config)) {}

  std::string_view channel() const override { return "pagerduty"; }

  Result<OutgoingRequest> Render(const Notification& n, int64_t /*now_ms*/) const override {
    if (Status kind = CheckKind(n); !kind.ok()) return kind.error();
    const std::string_view action = EventAction(n);
    json event = {
        {"routing_key", config_.routing_key},
        {"event_action", action},
        {"dedup_key", config_.dedup_prefix + "-incident-" + std::to_string(n.incident_id)}};
    std::string body;
    if (action != "trigger") {
      body = DumpJson(event);
    } else {
      std::vector<std::string> excerpts;
      for (const std::string& excerpt : n.excerpts) excerpts.push_back(ExcerptLine(excerpt));
      json links = json::array();
      if (!n.incident_url.empty())
        links.push_back({{"href", n.incident_url},
                         {"text", "Vigil incident " + std::to_string(n.incident_id)}});
      if (!n.ack_url.empty())
        links.push_back({{"href", n.ack_url}, {"text", "Acknowledge in Vigil"}});
      auto body_with = [&](size_t k) {
        json details = {
            {"kind", n.kind},
            {"idempotency_key", n.idempotency_key},
            {"rule_id", n.rule_id},
            {"category", n.category},
            {"severity", n.severity},
            {"owner", n.owner},
            {"community", n.community},
            {"state", n.state},
            {"hits", n.hits},
            {"escalation_level", n.escalation_level},
            {"excerpts", std::vector<std::string>(excerpts.begin(), excerpts.begin() + k)}};
        if (k < excerpts.size()) details["excerpts_omitted"] = MoreLine(excerpts.size() - k);
        if (n.digest_count > 0) details["digest_count"] = n.digest_count;
        if (!n.mentions.empty()) details["mentions"] = n.mentions;
        json full = event;
        full["payload"] = {{"summary", TruncateUtf8(Headline(n), kSummaryBytes)},
                           {"source", config_.source},
                           {"severity", PagerDutySeverity(n.severity)},
                           {"timestamp", Rfc3339(n.timestamp_ms)},
                           {"group", n.community},
                           {"class", n.category},
                           {"component", n.rule_id},
                           {"custom_details", details}};
        full["links"] = links;
        full["client"] = "Vigil";
        if (!n.incident_url.empty()) full["client_url"] = n.incident_url;
        return DumpJson(full);
      };
      const size_t k = FitCount(excerpts.size(), config_.max_body_bytes,
                                [&](size_t count) { return body_with(count).size(); });
      body = body_with(k);
    }
    OutgoingRequest request;
    request.url = config_.url;
    request.headers = {{"Content-Type", "application/json"}};
    request.body = std::move(body);
    return request;
  }

 private:
  const PagerDutyConfig config_;
};

}  // namespace

std::string_view PagerDutySeverity(std::string_view severity) {
  if (severity == "critical") return "critical";
  if (severity == "high") return "error";
  if (severity == "medium") return "warning";
  return "info";
}

Result<std::unique_ptr<Notifier>> MakePagerDutyNotifier(PagerDutyConfig config) {
  if (config.routing_key.empty()) return Error{"pagerduty.routing_key: required"};
  if (Status url = CheckHttpUrl(config.url, "pagerduty.url"); !url.ok()) return url.error();
  if (config.dedup_prefix.size() > 200) return Error{"pagerduty.dedup_prefix: at most 200 bytes"};
  if (config.max_body_bytes < 4096) return Error{"pagerduty.max_body_bytes: at least 4096"};
  return std::unique_ptr<Notifier>(new PagerDutyNotifier(std::move(config)));
}

}  // namespace vigil::alerts
