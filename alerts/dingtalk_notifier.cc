#include "alerts/dingtalk_notifier.h"

#include "alerts/notification_format.h"
#include "alerts/signing.h"

namespace vigil::alerts {

namespace {

using nlohmann::json;

class DingTalkNotifier : public Notifier {
 public:
  explicit DingTalkNotifier(DingTalkConfig config) : config_(std::move(config)) {}

  std::string_view channel() const override { return "dingtalk"; }

  Result<OutgoingRequest> Render(const Notification& n, int64_t now_ms) const override {
    if (Status kind = CheckKind(n); !kind.ok()) return kind.error();
    const std::string headline = DefangTags(Headline(n));
    std::string head = "### " + headline + "\n\n";
    for (const Fact& fact : Facts(n))
      head += "- **" + fact.label + "**: " + DefangTags(fact.value) + "\n";
    head += "\n";
    std::vector<std::string> lines;
    for (const std::string& excerpt : n.excerpts)
      lines.push_back("> " + Defang(ExcerptLine(excerpt)));
    if (!lines.empty()) head += "**Excerpts (masked)**\n\n";

    json mobiles = json::array(), user_ids = json::array();
    bool at_all = false;
    std::string tail = "\n";
    if (!n.incident_url.empty()) tail += "[Open incident](" + n.incident_url + ")";
    if (!n.ack_url.empty() && !IsResolve(n)) tail += " | [Acknowledge](" + n.ack_url + ")";
    tail += "\n";
    std::string at_line;
    for (const std::string& mention : n.mentions) {
      if (IsMentionAll(mention)) {
        at_all = true;
        continue;
      }
      (IsMobile(mention) ? mobiles : user_ids).push_back(mention);
      at_line += "@" + mention + " ";
    }
    if (!at_line.empty()) tail += "\n" + at_line + "\n";

    // Quoted lines need a blank line between them to stay separate paragraphs.
    auto text_with = [&](size_t k) {
      std::string text = head;
      for (size_t i = 0; i < k; ++i) text += lines[i] + "\n\n";
      if (k < lines.size()) text += MoreLine(lines.size() - k) + "\n";
      return text + tail;
    };
    const size_t k = FitCount(lines.size(), config_.max_markdown_bytes,
                              [&](size_t count) { return text_with(count).size(); });
    const json message = {
        {"msgtype", "markdown"},
        {"markdown",
         {{"title", TruncateUtf8(ExcerptLine(Headline(n)), 256)},  // plain preview text
          {"text", TruncateUtf8(text_with(k), config_.max_markdown_bytes)}}},
        {"at", {{"atMobiles", mobiles}, {"atUserIds", user_ids}, {"isAtAll", at_all}}}};

    OutgoingRequest request;
    request.url = config_.webhook_url;
    if (!config_.secret.empty()) {
      request.url += config_.webhook_url.find('?') == std::string::npos ? '?' : '&';
      request.url += "timestamp=" + std::to_string(now_ms) +
                     "&sign=" + PercentEncode(DingTalkSign(now_ms, config_.secret));
    }
    request.headers = {{"Content-Type", "application/json;charset=utf-8"}};
    request.body = DumpJson(message);
    return request;
  }

  DeliveryOutcome Interpret(DeliveryOutcome sent) const override {
    return InterpretErrorCode(std::move(sent), {"errcode"}, {-1, 130101, 410100});
  }

 private:
  const DingTalkConfig config_;
};

}  // namespace

std::string DingTalkSign(int64_t timestamp_ms, std::string_view secret) {
  const std::string to_sign = std::to_string(timestamp_ms) + "\n" + std::string(secret);
  return Base64(HmacSha256(secret, to_sign));
}

Result<std::unique_ptr<Notifier>> MakeDingTalkNotifier(DingTalkConfig config) {
  if (Status url = CheckHttpUrl(config.webhook_url, "dingtalk.webhook_url"); !url.ok())
    return url.error();
  if (config.max_markdown_bytes < 512 || config.max_markdown_bytes > 20000)
    return Error{"dingtalk.max_markdown_bytes: between 512 and 20000"};
  return std::unique_ptr<Notifier>(new DingTalkNotifier(std::move(config)));
}

}  // namespace vigil::alerts
