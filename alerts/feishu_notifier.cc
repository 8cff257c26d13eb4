#include "alerts/feishu_notifier.h"

#include "alerts/notification_format.h"
#include "alerts/signing.h"

namespace vigil::alerts {

namespace {

using nlohmann::json;

std::string_view Template(const Notification& n) {
  if (IsResolve(n)) return "green";
  if (n.severity == "critical") return "red";
  if (n.severity == "high") return "orange";
  if (n.severity == "medium") return "yellow";
  if (n.severity == "low") return "blue";
  return "grey";
}

json LarkMd(std::string content) { return {{"tag", "lark_md"}, {"content", std::move(content)}}; }
json Plain(std::string content) { return {{"tag", "plain_text"}, {"content", std::move(content)}}; }

class FeishuNotifier : public Notifier {
 public:
  explicit FeishuNotifier(FeishuConfig config) : config_(std::move(config)) {}

  std::string_view channel() const override { return "feishu"; }

  Result<OutgoingRequest> Render(const Notification& n, int64_t now_ms) const override {
    if (Status kind = CheckKind(n); !kind.ok()) return kind.error();
    json fields = json::array();
    for (const Fact& fact : Facts(n))
      fields.push_back({{"is_short", true},
                        {"text", LarkMd("**" + fact.label + "**\n" + DefangTags(fact.value))}});
    std::vector<std::string> lines;
    for (const std::string& excerpt : n.excerpts) lines.push_back(Defang(ExcerptLine(excerpt)));
    std::string mentions;
    for (const std::string& mention : n.mentions)
      mentions += "<at id=" + (IsMentionAll(mention) ? std::string("all") : DefangTags(mention)) +
                  "></at> ";
    json actions = json::array();
    if (!n.incident_url.empty())
      actions.push_back({{"tag", "button"},
                         {"text", Plain("Open incident")},
                         {"type", "primary"},
                         {"url", n.incident_url}});
    if (!n.ack_url.empty() && !IsResolve(n))
      actions.push_back({{"tag", "button"},
                         {"text", Plain("Acknowledge")},
                         {"type", "danger"},
                         {"url", n.ack_url}});

    const int64_t timestamp_s = now_ms / 1000;
    auto body_with = [&](size_t k) {
      json elements = json::array();
      elements.push_back({{"tag", "div"}, {"fields", fields}});
      if (!lines.empty()) {
        std::string text = "**Excerpts (masked)**";
        for (size_t i = 0; i < k; ++i) text += "\n> " + lines[i];
        if (k < lines.size()) text += "\n" + MoreLine(lines.size() - k);
        elements.push_back({{"tag", "div"}, {"text", LarkMd(text)}});
      }
      if (!mentions.empty()) elements.push_back({{"tag", "div"}, {"text", LarkMd(mentions)}});
      if (!actions.empty()) elements.push_back({{"tag", "action"}, {"actions", actions}});
      elements.push_back(
          {{"tag", "note"},
           {"elements", json::array({Plain("Vigil incident " + std::to_string(n.incident_id) +
                                           " · " + n.idempotency_key)})}});
      json body = json::object();
      if (!config_.secret.empty()) {
        body["timestamp"] = std::to_string(timestamp_s);
        body["sign"] = FeishuSign(timestamp_s, config_.secret);
      }
      body["msg_type"] = "interactive";
      body["card"] = {
          {"config", {{"wide_screen_mode", true}}},
          {"header", {{"title", Plain(TruncateUtf8(Headline(n), 500))}, {"template", Template(n)}}},
          {"elements", elements}};
      return DumpJson(body);
    };
    const size_t k = FitCount(lines.size(), config_.max_body_bytes,
                              [&](size_t count) { return body_with(count).size(); });
    OutgoingRequest request;
    request.url = config_.webhook_url;
    request.headers = {{"Content-Type", "application/json"}};
    request.body = body_with(k);
    return request;
  }

  DeliveryOutcome Interpret(DeliveryOutcome sent) const override {
    return InterpretErrorCode(std::move(sent), {"code", "StatusCode"}, {2200, 9499, 11232});
  }

 private:
  const FeishuConfig config_;
};

}  // namespace

std::string FeishuSign(int64_t timestamp_s, std::string_view secret) {
  return Base64(HmacSha256(std::to_string(timestamp_s) + "\n" + std::string(secret), ""));
}

Result<std::unique_ptr<Notifier>> MakeFeishuNotifier(FeishuConfig config) {
  if (Status url = CheckHttpUrl(config.webhook_url, "feishu.webhook_url"); !url.ok())
    return url.error();
  if (config.max_body_bytes < 4096 || config.max_body_bytes > 30 * 1024)
    return Error{"feishu.max_body_bytes: between 4096 and 30720"};
  return std::unique_ptr<Notifier>(new FeishuNotifier(std::move(config)));
}

}  // namespace vigil::alerts
