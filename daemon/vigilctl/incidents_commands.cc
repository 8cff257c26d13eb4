// vigilctl incidents list | show | ack | resolve, and the helpers every API command shares:
// times and durations on the command line, tables aligned by display width, and calling
// the API with one-line errors.
#include <time.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <utf8proc.h>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include "daemon/vigilctl/commands.h"

namespace vigil::ctl {

using nlohmann::ordered_json;

// ---------------------------------------------------------------- times and durations

std::optional<int64_t> ParseDurationMs(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  while (!text.empty()) {
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end == text.data() || n > 1'000'000'000) return std::nullopt;
    text.remove_prefix(static_cast<size_t>(end - text.data()));
    int64_t unit = 0;
    for (const auto& [name, ms] : {std::pair<std::string_view, int64_t>{"ms", 1},
                                   {"s", 1000},
                                   {"m", 60'000},
                                   {"h", 3'600'000},
                                   {"d", 86'400'000},
                                   {"w", 604'800'000}}) {
      if (text.starts_with(name) &&
          (text.size() == name.size() ||
           !std::isalpha(static_cast<unsigned char>(text[name.size()])))) {
        unit = ms;
        text.remove_prefix(name.size());
        break;
      }
    }
    if (unit == 0) return std::nullopt;
    total += n * unit;
    if (total > int64_t{1'000'000'000'000'000}) return std::nullopt;  // ~31,700 years
  }
  if (total <= 0) return std::nullopt;
  return total;
}

namespace {

// Reads exactly `digits` digits from the front of `text`.
std::optional<int> TakeNumber(std::string_view& text, size_t digits) {
  if (text.size() < digits) return std::nullopt;
  int n = 0;
  for (size_t i = 0; i < digits; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  text.remove_prefix(digits);
  return n;
}

bool TakeChar(std::string_view& text, std::string_view any_of) {
  if (text.empty() || any_of.find(text.front()) == std::string_view::npos) return false;
  text.remove_prefix(1);
  return true;
}

}  // namespace

std::optional<int64_t> ParseTimeMs(std::string_view text) {
  std::tm tm{};
  const auto year = TakeNumber(text, 4);
  if (!year || !TakeChar(text, "-")) return std::nullopt;
  const auto month = TakeNumber(text, 2);
  if (!month || !TakeChar(text, "-")) return std::nullopt;
  const auto day = TakeNumber(text, 2);
  if (!day) return std::nullopt;
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  int64_t fraction_ms = 0;
  std::optional<int> offset_minutes;  // none: local time
  if (!text.empty()) {
    if (!TakeChar(text, "Tt ")) return std::nullopt;
    const auto hour = TakeNumber(text, 2);
    if (!hour || !TakeChar(text, ":")) return std::nullopt;
    const auto minute = TakeNumber(text, 2);
    if (!minute) return std::nullopt;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    if (TakeChar(text, ":")) {
      const auto second = TakeNumber(text, 2);
      if (!second) return std::nullopt;
      tm.tm_sec = *second;
      if (TakeChar(text, ".")) {
        int scale = 100;
        if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front())))
          return std::nullopt;
        while (!text.empty() && std::isdigit(static_cast<unsigned char>(text.front()))) {
          fraction_ms += (text.front() - '0') * scale;
          scale /= 10;
          text.remove_prefix(1);
        }
      }
    }
    if (TakeChar(text, "Zz")) {
      offset_minutes = 0;
    } else if (!text.empty()) {
      const int sign = text.front() == '-' ? -1 : 1;
      if (!TakeChar(text, "+-")) return std::nullopt;
      const auto hours = TakeNumber(text, 2);
      if (!hours || !TakeChar(text, ":")) return std::nullopt;
      const auto minutes = TakeNumber(text, 2);
      if (!minutes || *hours > 23 || *minutes > 59) return std::nullopt;
      offset_minutes = sign * (*hours * 60 + *minutes);
    }
    if (!text.empty()) return std::nullopt;
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  const std::tm asked = tm;
  time_t seconds = 0;
  if (offset_minutes) {
    seconds = timegm(&tm) - static_cast<time_t>(*offset_minutes) * 60;
  } else {
    tm.tm_isdst = -1;
    seconds = mktime(&tm);
  }
  // Normalisation moves 2026-02-30 to March: such a date does not exist.
  if (seconds == -1 || tm.tm_mday != asked.tm_mday || tm.tm_mon != asked.tm_mon) {
    return std::nullopt;
  }
  return static_cast<int64_t>(seconds) * 1000 + fraction_ms;
}

std::optional<int64_t> ParseTimeoutMs(std::string_view text) {
  constexpr int64_t kDayMs = 86'400'000;
  double seconds = 0;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), seconds, std::chars_format::fixed);
  std::optional<int64_t> ms;
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (seconds > 0 && seconds <= kDayMs / 1000)
      ms = std::max<int64_t>(1, std::llround(seconds * 1000));
  } else {
    ms = ParseDurationMs(text);
  }
  if (!ms || *ms > kDayMs) return std::nullopt;
  return ms;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatLocalTime(int64_t ms, bool seconds) {
  const time_t t = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buffer[32];
  const size_t n =
      std::strftime(buffer, sizeof buffer, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
  return std::string(buffer, n);
}

std::string FormatAge(int64_t ms, int64_t now_ms) {
  const int64_t diff = now_ms - ms;
  const int64_t s = (diff < 0 ? -diff : diff) / 1000;
  if (s < 1) return "just now";
  std::string span;
  if (s < 60) {
    span = fmt::format("{}s", s);
  } else if (s < 3600) {
    span = fmt::format("{}m", s / 60);
  } else if (s < 86400) {
    span = s < 36000 && s % 3600 >= 60 ? fmt::format("{}h{}m", s / 3600, s % 3600 / 60)
                                       : fmt::format("{}h", s / 3600);
  } else {
    span = s < 864000 && s % 86400 >= 3600 ? fmt::format("{}d{}h", s / 86400, s % 86400 / 3600)
                                           : fmt::format("{}d", s / 86400);
  }
  return diff < 0 ? "in " + span : span + " ago";
}

// ---------------------------------------------------------------- terminal text

std::string Printable(std::string_view text, bool keep_newlines) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n =
        utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (cp == '\n' && keep_newlines) {
      out += '\n';
    } else if (cp == '\n' || cp == '\r' || cp == '\t') {
      out += ' ';
    } else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
               (cp >= 0x2066 && cp <= 0x2069)) {
      out += kReplacement;  // terminal escapes and bidi overrides from untrusted text
    } else {
      out.append(text.substr(i, static_cast<size_t>(n)));
    }
    i += static_cast<size_t>(n);
  }
  return out;
}

size_t DisplayWidth(std::string_view text) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t width = 0, i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n =
        utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0) {
      ++width;
      ++i;
      continue;
    }
    width += static_cast<size_t>(std::max(0, utf8proc_charwidth(cp)));
    i += static_cast<size_t>(n);
  }
  return width;
}

TextTable::TextTable(std::vector<std::string> headers) : right_(headers.size(), false) {
  rows_.push_back(std::move(headers));
}

void TextTable::AddRow(std::vector<std::string> cells) {
  for (std::string& cell : cells) cell = Printable(cell);
  rows_.push_back(std::move(cells));
}

void TextTable::Print(std::FILE* out) const {
  std::vector<size_t> widths(right_.size(), 0);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string padding(widths[c] - DisplayWidth(row[c]), ' ');
      if (c > 0) line += "  ";
      if (right_[c])
        line += padding + row[c];
      else
        line += row[c] + (c + 1 < row.size() ? padding : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();  // an empty last cell
    fmt::print(out, "{}\n", line);
  }
}

// ---------------------------------------------------------------- calling the API

std::optional<ApiClient> ClientFor(const ApiOptions& options) {
  const std::optional<int64_t> timeout_ms = ParseTimeoutMs(options.timeout);
  if (!timeout_ms) {
    fmt::print(stderr, "vigilctl: --timeout {}: expected seconds or a duration like 500ms\n",
               options.timeout);
    return std::nullopt;
  }
  auto client =
      ApiClient::Create(options.server, options.actor, std::chrono::milliseconds(*timeout_ms));
  if (!client.ok()) {
    fmt::print(stderr, "vigilctl: {}\n", client.error().message);
    return std::nullopt;
  }
  client->set_token(options.token);
  if (Status trusted = client->SetTlsTrust(
          {options.ca_file, options.insecure, options.cert_file, options.key_file});
      !trusted.ok()) {
    fmt::print(stderr, "vigilctl: {}\n", trusted.error().message);
    return std::nullopt;
  }
  if (options.insecure && client->tls()) {
    fmt::print(stderr,
               "vigilctl: warning: --insecure: the certificate of {} is not verified; anyone on "
               "the way can read and change this exchange\n",
               client->authority());
  }
  return std::move(*client);
}

std::optional<ordered_json> ExpectJson(const Result<ApiResponse>& answer, std::string_view what) {
  if (!answer.ok()) {
    fmt::print(stderr, "vigilctl: {}\n", Printable(answer.error().message));
    return std::nullopt;
  }
  if (answer->status == 401 || answer->status == 403) {
    // Every later call would be refused too: stop here, with the exit code of a usage error.
    fmt::print(stderr, "vigilctl: {}: {}\n", what, Printable(DescribeFailure(*answer)));
    fmt::print(stderr, "vigilctl: {}\n",
               answer->status == 401
                   ? "the server wants an API token: pass --token or set VIGIL_TOKEN"
                   : "the API token's role may not do this (docs/security.md has the roles)");
    std::fflush(stderr);
    std::exit(2);
  }
  if (answer->status < 200 || answer->status > 299) {
    fmt::print(stderr, "vigilctl: {}: {}\n", what, Printable(DescribeFailure(*answer)));
    return std::nullopt;
  }
  ordered_json body = ordered_json::parse(answer->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    fmt::print(stderr, "vigilctl: {}: {} {} but the answer is not JSON\n", what, answer->status,
               Printable(answer->reason));
    return std::nullopt;
  }
  return body;
}

void PrintJson(const ordered_json& json) {
  fmt::print("{}\n", json.dump(2, ' ', false, ordered_json::error_handler_t::replace));
}

std::string JsonText(const ordered_json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

int64_t JsonInt(const ordered_json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<int64_t>() : 0;
}

std::string FormatWhen(int64_t ms, int64_t now_ms) {
  return ms <= 0 ? "-" : FormatLocalTime(ms) + " (" + FormatAge(ms, now_ms) + ")";
}

// ---------------------------------------------------------------- incidents

namespace {

std::string OrDash(std::string text) { return text.empty() ? "-" : text; }

void PrintField(std::string_view label, std::string_view value) {
  fmt::print("{:<14}{}\n", std::string(label) + ":", Printable(value));
}

// The incidents whose id and action are in `options`, one request each: every id is
// tried; the run stops early only when the server does not answer.
int ChangeIncidents(const IncidentsOptions& options, std::string_view action, std::string_view done,
                    const std::string& body) {
  auto client = ClientFor(options.api);
  if (!client) return 1;
  bool failed = false;
  for (const int64_t id : options.ids) {
    const auto answer = client->Post(fmt::format("/api/v1/incidents/{}/{}", id, action), body);
    const auto incident = ExpectJson(answer, fmt::format("incident {}", id));
    if (!incident) {
      failed = true;
      if (!answer.ok()) break;
      continue;
    }
    if (options.api.format == "json") {
      PrintJson(*incident);
      continue;
    }
    const auto by = incident->find(action == "ack" ? "acknowledged" : "resolved");
    fmt::print("incident {} {}{}\n", id, done,
               by != incident->end() ? " by " + Printable(JsonText(*by, "by")) : "");
  }
  return failed ? 1 : 0;
}

}  // namespace

int IncidentsList(const IncidentsOptions& options) {
  auto client = ClientFor(options.api);
  if (!client) return 1;
  const int64_t now_ms = NowMs();
  boost::urls::url target("/api/v1/incidents");
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string&>{"state", options.state},
        {"category", options.category},
        {"severity", options.severity},
        {"owner", options.owner}}) {
    if (!value.empty()) target.params().append({name, value});
  }
  if (!options.since.empty()) {
    std::optional<int64_t> since_ms = ParseDurationMs(options.since);
    since_ms = since_ms ? std::optional<int64_t>(now_ms - *since_ms) : ParseTimeMs(options.since);
    if (!since_ms) {
      fmt::print(stderr, "vigilctl: --since {}: expected a duration like 2h or a time\n",
                 options.since);
      return 2;
    }
    target.params().append({"since_ms", std::to_string(std::max<int64_t>(0, *since_ms))});
  }
  if (options.limit > 0) target.params().append({"limit", std::to_string(options.limit)});

  const auto body = ExpectJson(client->Get(target.buffer()), "incidents");
  if (!body) return 1;
  if (options.api.format == "json") {
    PrintJson(*body);
    return 0;
  }
  const auto incidents = body->find("incidents");
  if (incidents == body->end() || !incidents->is_array()) {
    fmt::print(stderr, "vigilctl: incidents: the answer has no \"incidents\" list\n");
    return 1;
  }
  if (incidents->empty()) {
    fmt::print("no incidents\n");
    return 0;
  }
  TextTable table(
      {"ID", "STATE", "SEVERITY", "CATEGORY", "RULE", "COMMUNITY", "HITS", "OPENED", "OWNER"});
  table.RightAlign(0);
  table.RightAlign(6);
  for (const ordered_json& i : *incidents) {
    table.AddRow({JsonText(i, "id"), JsonText(i, "state"), JsonText(i, "severity"),
                  JsonText(i, "category"), JsonText(i, "rule_id"), OrDash(JsonText(i, "community")),
                  JsonText(i, "hits"), FormatWhen(JsonInt(i, "opened_ms"), now_ms),
                  OrDash(JsonText(i, "owner"))});
  }
  table.Print(stdout);
  return 0;
}

int IncidentsShow(const IncidentsOptions& options) {
  auto client = ClientFor(options.api);
  if (!client) return 1;
  const int64_t id = options.ids.at(0);
  const auto incident = ExpectJson(client->Get(fmt::format("/api/v1/incidents/{}", id)),
                                   fmt::format("incident {}", id));
  if (!incident) return 1;
  if (options.api.format == "json") {
    PrintJson(*incident);
    return 0;
  }
  const int64_t now_ms = NowMs();
  const ordered_json& i = *incident;
  fmt::print("Incident {}\n", Printable(JsonText(i, "id")));
  PrintField("State", JsonText(i, "state"));
  PrintField("Severity", JsonText(i, "severity"));
  PrintField("Category", JsonText(i, "category"));
  PrintField("Rule", JsonText(i, "rule_id"));
  PrintField("Community", OrDash(JsonText(i, "community")));
  PrintField("Owner", OrDash(JsonText(i, "owner")));
  PrintField("Key", JsonText(i, "key"));
  PrintField("Hits",
             JsonText(i, "hits") + ", the last " + FormatWhen(JsonInt(i, "last_hit_ms"), now_ms));
  PrintField("Opened", FormatWhen(JsonInt(i, "opened_ms"), now_ms));
  PrintField("Updated", FormatWhen(JsonInt(i, "updated_ms"), now_ms));
  PrintField("Escalation", "level " + JsonText(i, "escalation_level"));
  for (const auto& [key, label] :
       {std::pair<const char*, const char*>{"acknowledged", "Acknowledged"},
        {"resolved", "Resolved"}}) {
    if (const auto it = i.find(key); it != i.end() && it->is_object()) {
      PrintField(label,
                 "by " + JsonText(*it, "by") + ", " + FormatWhen(JsonInt(*it, "at_ms"), now_ms));
    }
  }

  const auto timeline = i.find("timeline");
  if (timeline != i.end() && timeline->is_array() && !timeline->empty()) {
    fmt::print("\nTimeline:\n");
    TextTable table({"  TIME", "ACTOR", "ACTION", "DETAIL"});
    for (const ordered_json& entry : *timeline) {
      table.AddRow({"  " + FormatLocalTime(JsonInt(entry, "at_ms"), /*seconds=*/true),
                    OrDash(JsonText(entry, "actor")), JsonText(entry, "action"),
                    JsonText(entry, "detail")});
    }
    table.Print(stdout);
  }

  const auto evidence = i.find("evidence");
  if (evidence != i.end() && evidence->is_array() && !evidence->empty()) {
    fmt::print("\nEvidence ({}):\n", evidence->size());
    for (const ordered_json& e : *evidence) {
      std::string head = "  " + FormatLocalTime(JsonInt(e, "at_ms"), /*seconds=*/true) + "  post " +
                         Printable(JsonText(e, "post_id"));
      if (const std::string url = JsonText(e, "url"); !url.empty()) head += "  " + Printable(url);
      fmt::print("{}\n", head);
      std::string excerpt = Printable(JsonText(e, "excerpt"), /*keep_newlines=*/true);
      for (size_t at = 0; at != std::string::npos;) {
        const size_t newline = excerpt.find('\n', at);
        fmt::print("      {}\n", std::string_view(excerpt).substr(at, newline - at));
        at = newline == std::string::npos ? newline : newline + 1;
      }
    }
  }
  return 0;
}

int IncidentsAck(const IncidentsOptions& options) {
  return ChangeIncidents(options, "ack", "acknowledged", "");
}

int IncidentsResolve(const IncidentsOptions& options) {
  const std::string body = options.comment.empty()
                               ? ""
                               : ordered_json{{"comment", options.comment}}.dump(
                                     -1, ' ', false, ordered_json::error_handler_t::replace);
  return ChangeIncidents(options, "resolve", "resolved", body);
}

}  // namespace vigil::ctl
