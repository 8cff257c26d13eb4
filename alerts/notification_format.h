// Text shared by the channel renderers: the headline, the facts every page carries, size
// fitting with "…and N more", UTF-8-safe truncation, time formats and JSON output. Pure
// functions, thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "alerts/notifier.h"
#include "core/result.h"

namespace vigil::alerts {

// An excerpt longer than this is cut (with "…") before any channel limit applies.
inline constexpr size_t kMaxExcerptBytes = 1000;

// OK for the kinds a renderer knows: page, reminder, digest, acknowledge, resolve.
Status CheckKind(const Notification& notification);
bool IsResolve(const Notification& notification);

// "Resolved: [HIGH] privacy_leak: …": the title with a prefix for kinds other than page.
// A missing title is made from severity, category, rule and community.
std::string Headline(const Notification& notification);

// What every page states besides its excerpts and links, in this order, empty values left
// out: Severity, Category, Rule, Owner, Community, Hits, Level, State, Folded pages.
struct Fact {
  std::string label;
  std::string value;
};
std::vector<Fact> Facts(const Notification& notification);

// One excerpt as a single line (CR, LF, tab become spaces), cut to kMaxExcerptBytes.
std::string ExcerptLine(std::string_view excerpt);
// Makes text inert in a markdown message by replacing < > * [ ] ` with their full-width
// forms: post text cannot smuggle a mention ("<@all>", "<at id=all>"), a tag or a link
// ("[click](…)"), and a masked "110105********002X" shows its stars instead of turning
// into bold markers.
std::string Defang(std::string_view text);
// Only '<' and '>': for Vigil's own text (headline, facts), where brackets are wanted.
std::string DefangTags(std::string_view text);

// "…and 3 more".
std::string MoreLine(size_t omitted);

// The largest k <= n with size_of(k) <= limit, or 0. size_of(k) is the size of the
// message showing the first k of n items and, when k < n, MoreLine(n - k); it must grow
// with k for k < n (each item adds more than the shorter count saves).
size_t FitCount(size_t n, size_t limit, const std::function<size_t(size_t)>& size_of);

// At most max_bytes bytes, cut at a UTF-8 character boundary and ending in "…" when cut.
std::string TruncateUtf8(std::string_view text, size_t max_bytes);
// Unicode code points (Slack counts characters, not bytes).
size_t Utf8Length(std::string_view text);

// "2030-01-15T08:00:00.000Z" and "Tue, 15 Jan 2030 08:00:00 +0000" (UTC).
std::string Rfc3339(int64_t ms);
std::string Rfc5322Date(int64_t ms);

// Compact JSON; invalid UTF-8 becomes U+FFFD instead of throwing.
std::string DumpJson(const nlohmann::json& value);

// OK when `url` starts with http:// or https:// and has a host; `what` names the field.
Status CheckHttpUrl(std::string_view url, std::string_view what);

// OK when every name is an HTTP token and no value holds CR, LF or NUL (no injection).
Status CheckHeaders(const std::vector<std::pair<std::string, std::string>>& headers,
                    std::string_view what);

// For robots that answer with an error code in a JSON body (DingTalk and WeCom "errcode",
// Feishu "code" or "StatusCode"): code 0 with a 2xx status is delivered, a code listed in
// `retryable` is retryable (rate limits, "system busy"), any other code is permanent.
// A 2xx reply without a readable code is retryable: better a duplicate than a lost page.
// Transport failures and non-2xx replies without a code keep the sender's verdict.
DeliveryOutcome InterpretErrorCode(DeliveryOutcome sent,
                                   const std::vector<std::string>& code_fields,
                                   const std::vector<int64_t>& retryable);

// "all" or "@all".
bool IsMentionAll(std::string_view mention);
// A phone number: an optional '+' then 5 to 15 digits.
bool IsMobile(std::string_view mention);

}  // namespace vigil::alerts
