#include "alerts/wecom_notifier.h"

#include "alerts/notification_format.h"

namespace vigil::alerts {

namespace {

using nlohmann::json;

// WeCom markdown's three colours: info (green), comment (grey), warning (orange-red).
std::string_view Colour(const Notification& n) {
  if (IsResolve(n)) return "info";
  if (n.severity == "critical" || n.severity == "high") return "warning";
  return "comment";
}

// Renders `head`, k quoted excerpts, "…and N more", then `tail`, with the largest k that
// keeps it within max_bytes (cut hard if even none fit).
std::string FitExcerpts(const std::string& head, const std::vector<std::string>& lines,
                        const std::string& tail, size_t max_bytes) {
  auto text_with = [&](size_t k) {
    std::string text = head;
    for (size_t i = 0; i < k; ++i) text += lines[i] + "\n";
    if (k < lines.size()) text += MoreLine(lines.size() - k) + "\n";
    return text + tail;
  };
  const size_t k =
      FitCount(lines.size(), max_bytes, [&](size_t count) { return text_with(count).size(); });
  return TruncateUtf8(text_with(k), max_bytes);
}

class WeComNotifier : public Notifier {
 public:
  explicit WeComNotifier(WeComConfig config) : config_(std::move(config)) {}

  std::string_view channel() const override { return "wecom"; }

  Result<OutgoingRequest> Render(const Notification& n, int64_t /*now_ms*/) const override {
    if (Status kind = CheckKind(n); !kind.ok()) return kind.error();
    bool needs_text = false;
    for (const std::string& mention : n.mentions)
      if (IsMentionAll(mention) || IsMobile(mention)) needs_text = true;
    json message = needs_text ? Text(n) : Markdown(n);
    OutgoingRequest request;
    request.url = config_.webhook_url;
    request.headers = {{"Content-Type", "application/json"}};
    request.body = DumpJson(message);
    return request;
  }

  DeliveryOutcome Interpret(DeliveryOutcome sent) const override {
    return InterpretErrorCode(std::move(sent), {"errcode"}, {-1, 45009, 45033});
  }

 private:
  json Markdown(const Notification& n) const {
    std::string head = "**" + DefangTags(Headline(n)) + "**\n";
    for (const Fact& fact : Facts(n)) {
      std::string value = DefangTags(fact.value);
      if (fact.label == "Severity")
        value = "<font color=\"" + std::string(Colour(n)) + "\">" + value + "</font>";
      head += "> " + fact.label + ": " + value + "\n";
    }
    std::vector<std::string> lines;
    for (const std::string& excerpt : n.excerpts)
      lines.push_back("> " + Defang(ExcerptLine(excerpt)));
    if (!lines.empty()) head += "Excerpts (masked):\n";
    std::string tail;
    if (!n.incident_url.empty()) tail += "[Open incident](" + n.incident_url + ")";
    if (!n.ack_url.empty() && !IsResolve(n)) tail += "  [Acknowledge](" + n.ack_url + ")";
    if (!tail.empty()) tail += "\n";
    for (const std::string& mention : n.mentions) tail += "<@" + DefangTags(mention) + "> ";
    return {
        {"msgtype", "markdown"},
        {"markdown", {{"content", FitExcerpts(head, lines, tail, config_.max_markdown_bytes)}}}};
  }

  json Text(const Notification& n) const {
    std::string head = Headline(n) + "\n";
    for (const Fact& fact : Facts(n)) head += fact.label + ": " + fact.value + "\n";
    std::vector<std::string> lines;
    for (const std::string& excerpt : n.excerpts) lines.push_back("- " + ExcerptLine(excerpt));
    if (!lines.empty()) head += "Excerpts (masked):\n";
    std::string tail;
    if (!n.incident_url.empty()) tail += "Incident: " + n.incident_url + "\n";
    if (!n.ack_url.empty() && !IsResolve(n)) tail += "Acknowledge: " + n.ack_url + "\n";
    json users = json::array(), mobiles = json::array();
    for (const std::string& mention : n.mentions) {
      if (IsMentionAll(mention))
        users.push_back("@all");
      else if (IsMobile(mention))
        mobiles.push_back(mention);
      else
        users.push_back(mention);
    }
    json text = {{"content", FitExcerpts(head, lines, tail, config_.max_text_bytes)}};
    if (!users.empty()) text["mentioned_list"] = users;
    if (!mobiles.empty()) text["mentioned_mobile_list"] = mobiles;
    return {{"msgtype", "text"}, {"text", text}};
  }

  const WeComConfig config_;
};

}  // namespace

Result<std::unique_ptr<Notifier>> MakeWeComNotifier(WeComConfig config) {
  if (Status url = CheckHttpUrl(config.webhook_url, "wecom.webhook_url"); !url.ok())
    return url.error();
  if (config.max_markdown_bytes < 512 || config.max_markdown_bytes > 4096)
    return Error{"wecom.max_markdown_bytes: between 512 and 4096"};
  if (config.max_text_bytes < 512 || config.max_text_bytes > 2048)
    return Error{"wecom.max_text_bytes: between 512 and 2048"};
  return std::unique_ptr<Notifier>(new WeComNotifier(std::move(config)));
}

}  // namespace vigil::alerts
