#include "alerts/email_notifier.h"

#include <algorithm>

#include "alerts/notification_format.h"
#include "alerts/signing.h"
#include "core/hash.h"

namespace vigil::alerts {

namespace {

struct Mailbox {
  std::string display;  // as written, without quotes; may be empty
  std::string address;  // addr-spec
};

std::string Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '"')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '"')) text.remove_suffix(1);
  return std::string(text);
}

Result<Mailbox> ParseMailbox(std::string_view text, std::string_view what) {
  Mailbox mailbox;
  const size_t open = text.find('<');
  if (open != std::string_view::npos) {
    const size_t close = text.find('>', open);
    if (close == std::string_view::npos || close != text.size() - 1)
      return Error{std::string(what) + ": '" + std::string(text) + "' has an unclosed '<'"};
    mailbox.display = Trim(text.substr(0, open));
    mailbox.address = std::string(text.substr(open + 1, close - open - 1));
  } else {
    mailbox.address = Trim(text);
  }
  const size_t at = mailbox.address.find('@');
  const bool bad_char = std::any_of(mailbox.address.begin(), mailbox.address.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' || c == '"' ||
           static_cast<unsigned char>(c) >= 0x7F;
  });
  if (at == std::string::npos || at == 0 || at + 1 == mailbox.address.size() || bad_char)
    return Error{std::string(what) + ": '" + std::string(text) + "' is not an e-mail address"};
  if (mailbox.display.find_first_of("\r\n") != std::string::npos)
    return Error{std::string(what) + ": line break in the display name"};
  return mailbox;
}

bool PlainAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= ' ' && c < 0x7F; });
}

std::string FormatMailbox(const Mailbox& mailbox) {
  if (mailbox.display.empty()) return mailbox.address;
  const std::string name = PlainAscii(mailbox.display) ? "\"" + mailbox.display + "\""
                                                       : EncodeHeaderText(mailbox.display);
  return name + " <" + mailbox.address + ">";
}

// Base64 in lines of 76 characters, CRLF-terminated.
std::string Base64Lines(std::string_view bytes) {
  const std::string encoded = Base64(bytes);
  std::string out;
  for (size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
  return out;
}

class EmailNotifier : public Notifier {
 public:
  EmailNotifier(EmailConfig config, Mailbox from, std::vector<Mailbox> to)
      : config_(std::move(config)), from_(std::move(from)), to_(std::move(to)) {}

  std::string_view channel() const override { return "email"; }

  Result<OutgoingRequest> Render(const Notification& n, int64_t now_ms) const override {
    if (Status kind = CheckKind(n); !kind.ok()) return kind.error();
    std::string head = Headline(n) + "\n\n";
    for (const Fact& fact : Facts(n)) {
      std::string label = fact.label + ":";
      label.resize(std::max<size_t>(label.size(), 14), ' ');
      head += label + fact.value + "\n";
    }
    std::vector<std::string> lines;
    for (const std::string& excerpt : n.excerpts) lines.push_back("  - " + ExcerptLine(excerpt));
    if (!lines.empty()) head += "\nExcerpts (masked):\n";
    std::string tail = "\n";
    if (!n.incident_url.empty()) tail += "Incident:     " + n.incident_url + "\n";
    if (!n.ack_url.empty() && !IsResolve(n)) tail += "Acknowledge:  " + n.ack_url + "\n";
    tail += "\nIdempotency key: " + n.idempotency_key + "\n";
    auto text_with = [&](size_t k) {
      std::string text = head;
      for (size_t i = 0; i < k; ++i) text += lines[i] + "\n";
      if (k < lines.size()) text += "  " + MoreLine(lines.size() - k) + "\n";
      return text + tail;
    };
    const size_t k = FitCount(lines.size(), config_.max_body_bytes,
                              [&](size_t count) { return text_with(count).size(); });
    std::string text;
    for (char c : text_with(k)) text += c == '\n' ? std::string("\r\n") : std::string(1, c);

    std::string key = n.idempotency_key;
    for (char& c : key)
      if (c < '!' || c > '~') c = '_';
    const std::string& domain = config_.message_id_domain;
    std::string to_header;
    for (const Mailbox& mailbox : to_)
      to_header += (to_header.empty() ? "" : ",\r\n ") + FormatMailbox(mailbox);  // folded
    const std::string thread =
        "<incident-" + std::to_string(n.incident_id) + ".vigil@" + domain + ">";

    std::string message;
    message += "Date: " + Rfc5322Date(now_ms) + "\r\n";
    message += "From: " + FormatMailbox(from_) + "\r\n";
    message += "To: " + to_header + "\r\n";
    message += "Subject: " + EncodeHeaderText(Headline(n)) + "\r\n";
    message +=
        "Message-ID: <" + Sha256Hex(n.idempotency_key).substr(0, 32) + ".vigil@" + domain + ">\r\n";
    message += "In-Reply-To: " + thread + "\r\n";
    message += "References: " + thread + "\r\n";
    message += "MIME-Version: 1.0\r\n";
    message += "Content-Type: text/plain; charset=UTF-8\r\n";
    message += "Content-Transfer-Encoding: base64\r\n";
    message += "Auto-Submitted: auto-generated\r\n";
    message += "X-Vigil-Incident: " + std::to_string(n.incident_id) + "\r\n";
    message += "X-Vigil-Idempotency-Key: " + key + "\r\n";
    message += "\r\n" + Base64Lines(text);

    OutgoingRequest request;
    request.url = config_.smtp_url;
    request.mail_from = from_.address;
    for (const Mailbox& mailbox : to_) request.rcpt_to.push_back(mailbox.address);
    request.body = std::move(message);
    return request;
  }

 private:
  const EmailConfig config_;
  const Mailbox from_;
  const std::vector<Mailbox> to_;
};

}  // namespace

std::string EncodeHeaderText(std::string_view text) {
  if (PlainAscii(text)) return std::string(text);
  // 75 characters: "=?UTF-8?B?" + 60 base64 characters (45 bytes) + "?=".
  constexpr size_t kChunkBytes = 45;
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + kChunkBytes);
    while (end < text.size() && end > start &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
      --end;
    if (end == start) end = std::min(text.size(), start + kChunkBytes);  // not UTF-8: cut anywhere
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(text.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

Result<std::unique_ptr<Notifier>> MakeEmailNotifier(EmailConfig config) {
  if (!config.smtp_url.starts_with("smtp://") && !config.smtp_url.starts_with("smtps://"))
    return Error{"email.smtp_url: '" + config.smtp_url + "' is not an smtp:// or smtps:// URL"};
  Result<Mailbox> from = ParseMailbox(config.from, "email.from");
  if (!from.ok()) return from.error();
  if (config.to.empty()) return Error{"email.to: at least one recipient"};
  std::vector<Mailbox> to;
  for (const std::string& recipient : config.to) {
    Result<Mailbox> mailbox = ParseMailbox(recipient, "email.to");
    if (!mailbox.ok()) return mailbox.error();
    to.push_back(std::move(*mailbox));
  }
  if (config.message_id_domain.empty())
    config.message_id_domain = from->address.substr(from->address.find('@') + 1);
  if (!PlainAscii(config.message_id_domain) ||
      config.message_id_domain.find_first_of(" <>") != std::string::npos)
    return Error{"email.message_id_domain: not a domain name"};
  if (config.max_body_bytes < 4096) return Error{"email.max_body_bytes: at least 4096"};
  Mailbox sender = std::move(*from);
  return std::unique_ptr<Notifier>(
      new EmailNotifier(std::move(config), std::move(sender), std::move(to)));
}

}  // namespace vigil::alerts
