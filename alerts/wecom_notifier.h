// WeCom (企业微信) group robot: POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
//
// Message type, and how mentions work (the robot's markdown cannot mention by mobile
// number nor "@all"; its text type can, through mentioned_list / mentioned_mobile_list):
//   - no mentions, or only userids: msgtype "markdown" (content <= 4096 bytes), each
//     userid mentioned inline as "<@userid>", the robot's markdown extension;
//   - any mobile number or "all": msgtype "text" (content <= 2048 bytes) with
//     mentioned_list (userids, "@all") and mentioned_mobile_list (mobiles).
// Excerpts are quoted one per line with < > * [ ] ` made full-width, so post text cannot
// mention anyone nor add links; past the limit they end in "…and N more". The robot signs nothing
// (the key in the URL is the secret). It answers 200 {"errcode":0}; errcode 45009 (rate limit: 20
// messages a minute), 45033 and -1 (busy) are retryable, others permanent.
#pragma once

#include <memory>
#include <string>

#include "alerts/notifier.h"
#include "core/result.h"

namespace vigil::alerts {

struct WeComConfig {
  std::string webhook_url;
  size_t max_markdown_bytes = 4096;
  size_t max_text_bytes = 2048;
};

Result<std::unique_ptr<Notifier>> MakeWeComNotifier(WeComConfig config);

}  // namespace vigil::alerts
