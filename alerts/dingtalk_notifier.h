// DingTalk (钉钉) custom robot: POST https://oapi.dingtalk.com/robot/send?access_token=…
//
// Signed ("加签") when a secret is set: the query gains
//   timestamp=<Unix milliseconds>&sign=<URL-encoded base64 of HMAC-SHA256 keyed by the
//   secret over "<timestamp>\n<secret>">
// (DingTalk rejects a timestamp more than an hour off). The body is msgtype "markdown"
// (title = headline, text <= max_markdown_bytes) with "at": atMobiles for mobile numbers,
// atUserIds for other ids, isAtAll for "all"; each mention is also written as "@id" in
// the text, which is how DingTalk highlights it. Excerpts are quoted one per line (< > * [ ] ` made
// full-width) and end in "…and N more" past the limit. DingTalk answers 200 {"errcode":0}; errcode
// 130101 and 410100 (sending too fast: 20 messages a minute) and -1 (busy) are retryable, others
// (310000: signature, keyword or IP rejected; 300001: bad token) permanent.
// A robot secured by keyword instead needs a word every page contains, e.g. "Severity".
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "alerts/notifier.h"
#include "core/result.h"

namespace vigil::alerts {

struct DingTalkConfig {
  std::string webhook_url;  // with its access_token
  std::string secret;       // "SEC…" from the robot's security settings; empty: unsigned
  size_t max_markdown_bytes = 4096;
};

Result<std::unique_ptr<Notifier>> MakeDingTalkNotifier(DingTalkConfig config);

// The "sign" query value before URL encoding: base64(HMAC-SHA256(secret, ts + "\n" + secret)).
std::string DingTalkSign(int64_t timestamp_ms, std::string_view secret);

}  // namespace vigil::alerts
