#include "alerts/alertmanager_notifier.h"

#include <algorithm>

#include "alerts/notification_format.h"

namespace vigil::alerts {

namespace {

using nlohmann::json;

bool IsLabelName(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

class AlertmanagerNotifier : public Notifier {
 public:
  explicit AlertmanagerNotifier(AlertmanagerConfig config) : config_(std::move(config)) {
    while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
  }

  std::string_view channel() const override { return "alertmanager"; }

  Result<OutgoingRequest> Render(const Notification& n, int64_t now_ms) const override {
    if (Status kind = CheckKind(n); !kind.ok()) return kind.error();
    json labels = json::object();
    auto label = [&](const std::string& name, const std::string& value) {
      if (!value.empty()) labels[name] = value;
    };
    label("alertname", n.rule_id.empty() ? "VigilIncident" : n.rule_id);
    label("vigil_incident", std::to_string(n.incident_id));
    label("severity", n.severity);
    label("category", n.category);
    label("owner", n.owner);
    label("community", n.community);
    for (const auto& [name, value] : config_.extra_labels) label(name, value);

    std::string facts;
    for (const Fact& fact : Facts(n)) facts += fact.label + ": " + fact.value + "\n";
    std::vector<std::string> excerpts;
    for (const std::string& excerpt : n.excerpts) excerpts.push_back(ExcerptLine(excerpt));
    auto description_with = [&](size_t k) {
      std::string text = facts;
      if (!excerpts.empty()) text += "Excerpts (masked):\n";
      for (size_t i = 0; i < k; ++i) text += "- " + excerpts[i] + "\n";
      if (k < excerpts.size()) text += MoreLine(excerpts.size() - k) + "\n";
      return text;
    };
    const size_t k = FitCount(excerpts.size(), config_.max_description_bytes,
                              [&](size_t count) { return description_with(count).size(); });

    json annotations = {
        {"summary", Headline(n)},
        {"description", TruncateUtf8(description_with(k), config_.max_description_bytes)},
        {"hits", std::to_string(n.hits)},
        {"escalation_level", std::to_string(n.escalation_level)},
        {"idempotency_key", n.idempotency_key}};
    if (!n.state.empty()) annotations["state"] = n.state;
    if (!n.incident_url.empty()) annotations["incident_url"] = n.incident_url;
    if (!n.ack_url.empty()) annotations["ack_url"] = n.ack_url;
    if (!n.mentions.empty()) {
      std::string mentions;
      for (const std::string& mention : n.mentions)
        mentions += (mentions.empty() ? "" : ",") + mention;
      annotations["mentions"] = mentions;
    }

    const int64_t starts_ms =
        n.opened_ms != 0 ? n.opened_ms : (n.timestamp_ms != 0 ? n.timestamp_ms : now_ms);
    const int64_t ends_ms = IsResolve(n) ? std::max(now_ms, starts_ms)
                                         : std::max(now_ms, starts_ms) + config_.firing_ttl.count();
    json alert = {{"labels", labels},
                  {"annotations", annotations},
                  {"startsAt", Rfc3339(starts_ms)},
                  {"endsAt", Rfc3339(ends_ms)}};
    if (!n.incident_url.empty()) alert["generatorURL"] = n.incident_url;

    OutgoingRequest request;
    request.url = config_.base_url + "/api/v2/alerts";
    request.headers = {{"Content-Type", "application/json"}};
    for (const auto& header : config_.headers) request.headers.push_back(header);
    request.body = DumpJson(json::array({alert}));
    return request;
  }

 private:
  AlertmanagerConfig config_;
};

}  // namespace

Result<std::unique_ptr<Notifier>> MakeAlertmanagerNotifier(AlertmanagerConfig config) {
  if (Status url = CheckHttpUrl(config.base_url, "alertmanager.base_url"); !url.ok())
    return url.error();
  if (Status headers = CheckHeaders(config.headers, "alertmanager.headers"); !headers.ok())
    return headers.error();
  for (const auto& [name, value] : config.extra_labels) {
    if (!IsLabelName(name))
      return Error{"alertmanager.extra_labels: '" + name +
                   "' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"};
    static constexpr std::string_view kReserved[] = {"alertname", "vigil_incident", "severity",
                                                     "category",  "owner",          "community"};
    if (std::find(std::begin(kReserved), std::end(kReserved), name) != std::end(kReserved))
      return Error{"alertmanager.extra_labels: '" + name + "' is set by Vigil"};
  }
  if (config.firing_ttl < std::chrono::minutes(1))
    return Error{"alertmanager.firing_ttl: at least 1m"};
  if (config.max_description_bytes < 1024)
    return Error{"alertmanager.max_description_bytes: at least 1024"};
  return std::unique_ptr<Notifier>(new AlertmanagerNotifier(std::move(config)));
}

}  // namespace vigil::alerts
