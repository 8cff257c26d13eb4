// Slack incoming webhook: a fallback "text" (what notifications show) and Block Kit
// blocks: a header, the facts as fields, the masked excerpts as a quote (one section,
// at most 3,000 characters, "…and N more" when they do not fit), the mentions, buttons to
// the incident and its acknowledgement, and a context line with the idempotency key.
// Post text is escaped (&, <, >), so an excerpt cannot mention "<!channel>".
// Slack has no signature for incoming webhooks (the URL is the secret) and no
// idempotency header.
#pragma once

#include <memory>
#include <string>

#include "alerts/notifier.h"
#include "core/result.h"

namespace vigil::alerts {

struct SlackConfig {
  std::string webhook_url;        // https://hooks.slack.com/services/…
  size_t max_block_chars = 3000;  // Slack's limit for a section's text
};

Result<std::unique_ptr<Notifier>> MakeSlackNotifier(SlackConfig config);

}  // namespace vigil::alerts
