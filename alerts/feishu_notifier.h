// Feishu / Lark (飞书) custom bot: POST https://open.feishu.cn/open-apis/bot/v2/hook/…
//
// Signed ("签名校验") when a secret is set: the JSON body carries
//   "timestamp": "<Unix SECONDS>", "sign": base64(HMAC-SHA256 with KEY "<timestamp>\n<secret>"
//   over an EMPTY message)
// (unlike DingTalk, the secret string is the key material and the message is empty).
// The body is msg_type "interactive": a card whose header colour follows severity (green
// once resolved), the facts as short fields, the masked excerpts (lark_md, with < > * [ ] `
// made full-width so post text cannot write "<at id=all>" or a link), the mentions as
// "<at id=open_id></at>" ("all" -> "<at id=all></at>"), buttons to the incident and its
// acknowledgement, and a note with the idempotency key. The whole body is kept under
// max_body_bytes ("…and N more"). Feishu answers {"code":0} (older bots
// {"StatusCode":0}); code 9499 and 11232 (rate limit: 100 a minute, 5 a second) and 2200
// (internal) are retryable, others (19021: bad signature or timestamp; 19022: IP; 19024:
// keyword) permanent. A robot secured by keyword needs a word every card contains, such
// as "Severity".
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "alerts/notifier.h"
#include "core/result.h"

namespace vigil::alerts {

struct FeishuConfig {
  std::string webhook_url;
  std::string secret;  // empty: unsigned
  size_t max_body_bytes = 20 * 1024;
};

Result<std::unique_ptr<Notifier>> MakeFeishuNotifier(FeishuConfig config);

// base64(HMAC-SHA256(key = timestamp_s + "\n" + secret, message = "")).
std::string FeishuSign(int64_t timestamp_s, std::string_view secret);

}  // namespace vigil::alerts
