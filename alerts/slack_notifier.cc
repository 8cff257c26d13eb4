#include "alerts/slack_notifier.h"

#include "alerts/notification_format.h"

namespace vigil::alerts {

namespace {

using nlohmann::json;

constexpr size_t kHeaderChars = 150;  // Slack's limit for a header block
constexpr size_t kFieldChars = 2000;  // ... for one section field

// Slack's mrkdwn control characters.
std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

// At most `max_chars` code points, ending in "…" when cut.
std::string TruncateChars(std::string_view text, size_t max_chars) {
  if (Utf8Length(text) <= max_chars) return std::string(text);
  size_t chars = 0, cut = 0;
  for (; cut < text.size(); ++cut) {
    if ((static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80 && ++chars == max_chars) break;
  }
  return std::string(text.substr(0, cut)) + "\u2026";
}

std::string Mention(const std::string& mention) {
  if (IsMentionAll(mention)) return "<!channel>";
  if (!mention.empty() && mention.front() == '<') return mention;  // already "<@U…>"
  return "<@" + Escape(mention) + ">";
}

json PlainText(std::string text) { return {{"type", "plain_text"}, {"text", std::move(text)}}; }
json Mrkdwn(std::string text) { return {{"type", "mrkdwn"}, {"text", std::move(text)}}; }

class SlackNotifier : public Notifier {
 public:
  explicit SlackNotifier(SlackConfig config) : config_(std::move(config)) {}

  std::string_view channel() const override { return "slack"; }

  Result<OutgoingRequest> Render(const Notification& n, int64_t /*now_ms*/) const override {
    if (Status kind = CheckKind(n); !kind.ok()) return kind.error();
    const std::string headline = Headline(n);
    json blocks = json::array();
    blocks.push_back(
        {{"type", "header"}, {"text", PlainText(TruncateChars(headline, kHeaderChars))}});

    json fields = json::array();
    for (const Fact& fact : Facts(n)) {
      if (fields.size() == 10) break;  // Slack's limit per section
      fields.push_back(
          Mrkdwn(TruncateChars("*" + fact.label + "*\n" + Escape(fact.value), kFieldChars)));
    }
    blocks.push_back({{"type", "section"}, {"fields", fields}});

    if (!n.excerpts.empty()) {
      std::vector<std::string> lines;
      for (const std::string& excerpt : n.excerpts)
        lines.push_back("> " + Escape(ExcerptLine(excerpt)));
      auto text_with = [&](size_t k) {
        std::string text = "*Excerpts (masked)*";
        for (size_t i = 0; i < k; ++i) text += "\n" + lines[i];
        if (k < lines.size()) text += "\n" + MoreLine(lines.size() - k);
        return text;
      };
      const size_t k = FitCount(lines.size(), config_.max_block_chars,
                                [&](size_t count) { return Utf8Length(text_with(count)); });
      blocks.push_back({{"type", "section"},
                        {"text", Mrkdwn(TruncateChars(text_with(k), config_.max_block_chars))}});
    }

    if (!n.mentions.empty()) {
      std::string text;
      for (const std::string& mention : n.mentions)
        text += (text.empty() ? "" : " ") + Mention(mention);
      blocks.push_back(
          {{"type", "section"}, {"text", Mrkdwn(TruncateChars(text, config_.max_block_chars))}});
    }

    json buttons = json::array();
    if (!n.incident_url.empty())
      buttons.push_back(
          {{"type", "button"}, {"text", PlainText("Open incident")}, {"url", n.incident_url}});
    if (!n.ack_url.empty() && !IsResolve(n))
      buttons.push_back({{"type", "button"},
                         {"text", PlainText("Acknowledge")},
                         {"style", "primary"},
                         {"url", n.ack_url}});
    if (!buttons.empty()) blocks.push_back({{"type", "actions"}, {"elements", buttons}});

    blocks.push_back(
        {{"type", "context"},
         {"elements", json::array({Mrkdwn(Escape("Vigil incident " + std::to_string(n.incident_id) +
                                                 " · " + n.idempotency_key))})}});

    std::string fallback = headline;
    if (!n.incident_url.empty()) fallback += " " + n.incident_url;
    OutgoingRequest request;
    request.url = config_.webhook_url;
    request.headers = {{"Content-Type", "application/json"}};
    request.body = DumpJson({{"text", Escape(fallback)}, {"blocks", blocks}});
    return request;
  }

 private:
  const SlackConfig config_;
};

}  // namespace

Result<std::unique_ptr<Notifier>> MakeSlackNotifier(SlackConfig config) {
  if (Status url = CheckHttpUrl(config.webhook_url, "slack.webhook_url"); !url.ok())
    return url.error();
  if (config.max_block_chars < 200 || config.max_block_chars > 3000)
    return Error{"slack.max_block_chars: between 200 and 3000"};
  return std::unique_ptr<Notifier>(new SlackNotifier(std::move(config)));
}

}  // namespace vigil::alerts
