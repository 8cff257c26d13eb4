#include "alerts/webhook_notifier.h"

#include "alerts/notification_format.h"
#include "alerts/signing.h"

namespace vigil::alerts {

namespace {

using nlohmann::json;

class WebhookNotifier : public Notifier {
 public:
  explicit WebhookNotifier(WebhookConfig config) : config_(std::move(config)) {}

  std::string_view channel() const override { return "webhook"; }

  Result<OutgoingRequest> Render(const Notification& n, int64_t now_ms) const override {
    if (Status kind = CheckKind(n); !kind.ok()) return kind.error();
    std::vector<std::string> excerpts;
    for (const std::string& excerpt : n.excerpts) excerpts.push_back(ExcerptLine(excerpt));
    auto body_with = [&](size_t k) {
      json document = {
          {"version", 1},
          {"kind", n.kind},
          {"incident_id", n.incident_id},
          {"idempotency_key", n.idempotency_key},
          {"title", n.title},
          {"headline", Headline(n)},
          {"severity", n.severity},
          {"category", n.category},
          {"rule_id", n.rule_id},
          {"owner", n.owner},
          {"community", n.community},
          {"state", n.state},
          {"hits", n.hits},
          {"escalation_level", n.escalation_level},
          {"incident_url", n.incident_url},
          {"ack_url", n.ack_url},
          {"excerpts", std::vector<std::string>(excerpts.begin(), excerpts.begin() + k)},
          {"excerpts_omitted", excerpts.size() - k},
          {"mentions", n.mentions},
          {"opened_at", Rfc3339(n.opened_ms != 0 ? n.opened_ms : n.timestamp_ms)},
          {"at", Rfc3339(n.timestamp_ms)},
          {"digest_count", n.digest_count},
          {"sent_at_ms", now_ms},
      };
      return DumpJson(document);
    };
    const size_t k = FitCount(excerpts.size(), config_.max_body_bytes,
                              [&](size_t count) { return body_with(count).size(); });
    OutgoingRequest request;
    request.url = config_.url;
    request.body = body_with(k);
    request.headers = {{"Content-Type", "application/json"},
                       {"Idempotency-Key", n.idempotency_key},
                       {"X-Vigil-Timestamp", std::to_string(now_ms)}};
    if (!config_.secret.empty())
      request.headers.emplace_back("X-Vigil-Signature",
                                   "sha256=" + HexLower(HmacSha256(config_.secret, request.body)));
    for (const auto& header : config_.headers) request.headers.push_back(header);
    return request;
  }

 private:
  const WebhookConfig config_;
};

}  // namespace

Result<std::unique_ptr<Notifier>> MakeWebhookNotifier(WebhookConfig config) {
  if (Status url = CheckHttpUrl(config.url, "webhook.url"); !url.ok()) return url.error();
  if (Status headers = CheckHeaders(config.headers, "webhook.headers"); !headers.ok())
    return headers.error();
  if (config.max_body_bytes < 1024) return Error{"webhook.max_body_bytes: at least 1024"};
  return std::unique_ptr<Notifier>(new WebhookNotifier(std::move(config)));
}

}  // namespace vigil::alerts
