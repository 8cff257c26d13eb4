#include "alerts/notification_format.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace vigil::alerts {

namespace {

bool KnownKind(std::string_view kind) {
  return kind == "page" || kind == "reminder" || kind == "digest" || kind == "acknowledge" ||
         kind == "resolve";
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::tm UtcTime(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

}  // namespace

Status CheckKind(const Notification& notification) {
  if (KnownKind(notification.kind)) return Status::Ok();
  return Error{"unknown notification kind '" + notification.kind +
               "' (page, reminder, digest, acknowledge, resolve)"};
}

bool IsResolve(const Notification& notification) { return notification.kind == "resolve"; }

std::string Headline(const Notification& n) {
  std::string title = n.title;
  if (title.empty()) {
    title = fmt::format("[{}] {}: {}", Upper(n.severity), n.category, n.rule_id);
    if (!n.community.empty()) title += " in " + n.community;
  }
  if (n.kind == "reminder") return "Reminder: " + title;
  if (n.kind == "acknowledge") return "Acknowledged: " + title;
  if (n.kind == "resolve") return "Resolved: " + title;
  if (n.kind == "digest") return fmt::format("Digest of {} pages: {}", n.digest_count, title);
  return title;
}

std::vector<Fact> Facts(const Notification& n) {
  std::vector<Fact> facts;
  auto add = [&](std::string label, std::string value) {
    if (!value.empty()) facts.push_back({std::move(label), std::move(value)});
  };
  add("Severity", n.severity);
  add("Category", n.category);
  add("Rule", n.rule_id);
  add("Owner", n.owner);
  add("Community", n.community);
  add("Hits", std::to_string(n.hits));
  add("Level", std::to_string(n.escalation_level));
  add("State", n.state);
  if (n.digest_count > 0) add("Folded pages", std::to_string(n.digest_count));
  return facts;
}

std::string ExcerptLine(std::string_view excerpt) {
  std::string line(excerpt);
  for (char& c : line)
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  return TruncateUtf8(line, kMaxExcerptBytes);
}

namespace {

std::string FullWidth(std::string_view text, std::string_view which) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (which.find(c) == std::string_view::npos) {
      out += c;
      continue;
    }
    const unsigned code = 0xFF01 + static_cast<unsigned>(c - '!');  // the full-width form
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
  return out;
}

}  // namespace

std::string Defang(std::string_view text) { return FullWidth(text, "<>*[]`"); }

std::string DefangTags(std::string_view text) { return FullWidth(text, "<>"); }

std::string MoreLine(size_t omitted) { return fmt::format("\u2026and {} more", omitted); }

size_t FitCount(size_t n, size_t limit, const std::function<size_t(size_t)>& size_of) {
  if (n == 0) return 0;
  if (size_of(n) <= limit) return n;
  // Monotone on [0, n - 1]: the largest k there that fits.
  size_t lo = 0, hi = n - 1;
  if (size_of(lo) > limit) return 0;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo + 1) / 2;
    if (size_of(mid) <= limit)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  static constexpr std::string_view kEllipsis = "\u2026";
  if (max_bytes < kEllipsis.size()) return "";
  size_t cut = max_bytes - kEllipsis.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + std::string(kEllipsis);
}

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string Rfc3339(int64_t ms) {
  const std::tm tm = UtcTime(ms);
  const int64_t millis = ((ms % 1000) + 1000) % 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

std::string Rfc5322Date(int64_t ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::tm tm = UtcTime(ms);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status CheckHttpUrl(std::string_view url, std::string_view what) {
  std::string_view rest;
  if (url.starts_with("https://"))
    rest = url.substr(8);
  else if (url.starts_with("http://"))
    rest = url.substr(7);
  else
    return Error{std::string(what) + ": '" + std::string(url) + "' is not an http(s):// URL"};
  if (rest.empty() || rest.front() == '/')
    return Error{std::string(what) + ": '" + std::string(url) + "' has no host"};
  for (char c : url)
    if (static_cast<unsigned char>(c) <= ' ')
      return Error{std::string(what) + ": URL contains a space or control character"};
  return Status::Ok();
}

Status CheckHeaders(const std::vector<std::pair<std::string, std::string>>& headers,
                    std::string_view what) {
  for (const auto& [name, value] : headers) {
    if (name.empty()) return Error{std::string(what) + ": empty header name"};
    for (char c : name) {
      const bool token = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') ||
                         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
      if (!token) return Error{std::string(what) + ": invalid header name '" + name + "'"};
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      return Error{std::string(what) + ": header '" + name + "' has a line break in its value"};
  }
  return Status::Ok();
}

DeliveryOutcome InterpretErrorCode(DeliveryOutcome sent,
                                   const std::vector<std::string>& code_fields,
                                   const std::vector<int64_t>& retryable) {
  if (sent.status == 0) return sent;  // transport failure: the sender's verdict stands
  const bool success_status = sent.status >= 200 && sent.status < 300;
  const nlohmann::json reply = nlohmann::json::parse(sent.body, nullptr, false);
  const nlohmann::json* code = nullptr;
  if (reply.is_object()) {
    for (const std::string& field : code_fields) {
      auto it = reply.find(field);
      if (it != reply.end() && it->is_number_integer()) {
        code = &*it;
        break;
      }
    }
  }
  if (code == nullptr) {
    if (!success_status) return sent;
    sent.delivery = Delivery::kRetryable;
    sent.detail = fmt::format("HTTP {} without an error code: {}", sent.status,
                              TruncateUtf8(ExcerptLine(sent.body), 200));
    return sent;
  }
  const int64_t value = code->get<int64_t>();
  std::string message;
  for (const char* field : {"errmsg", "msg", "StatusMessage"}) {
    auto it = reply.find(field);
    if (it != reply.end() && it->is_string()) {
      message = it->get<std::string>();
      break;
    }
  }
  sent.detail = fmt::format("HTTP {}, code {}: {}", sent.status, value,
                            TruncateUtf8(ExcerptLine(message), 200));
  if (std::find(retryable.begin(), retryable.end(), value) != retryable.end()) {
    sent.delivery = Delivery::kRetryable;
  } else if (value == 0 && success_status) {
    sent.delivery = Delivery::kDelivered;
  } else if (value != 0 && sent.status < 500 && sent.status != 429 && sent.status != 408) {
    sent.delivery = Delivery::kPermanent;  // the robot rejected this message or our config
  }  // else a 5xx, 408 or 429 stays as the sender classified it
  return sent;
}

bool IsMentionAll(std::string_view mention) { return mention == "all" || mention == "@all"; }

bool IsMobile(std::string_view mention) {
  if (!mention.empty() && mention.front() == '+') mention.remove_prefix(1);
  if (mention.size() < 5 || mention.size() > 15) return false;
  for (char c : mention)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace vigil::alerts
