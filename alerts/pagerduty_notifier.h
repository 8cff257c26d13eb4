// PagerDuty Events API v2 (POST https://events.pagerduty.com/v2/enqueue).
//
// Every step of one incident uses the same dedup_key ("<prefix>-incident-<id>"), so a
// reminder or a re-sent page folds into the open PagerDuty alert, and "acknowledge" and
// "resolve" reach it. page/reminder/digest send event_action "trigger" with the payload
// (summary <= 1024 characters, severity mapped critical->critical, high->error,
// medium->warning, low and info->info, custom_details with the facts, the masked
// excerpts and the step's idempotency key) and links to the incident and its
// acknowledgement; acknowledge and resolve send only routing_key, event_action and
// dedup_key. PagerDuty answers 202; 400 is permanent, 429 and 5xx retryable (HTTP rules).
#pragma once

#include <memory>
#include <string>

#include "alerts/notifier.h"
#include "core/result.h"

namespace vigil::alerts {

struct PagerDutyConfig {
  std::string routing_key;  // the integration key of an Events API v2 integration
  std::string url = "https://events.pagerduty.com/v2/enqueue";
  std::string source = "vigil";        // payload.source
  std::string dedup_prefix = "vigil";  // distinguishes Vigil deployments sharing a service
  size_t max_body_bytes = 64 * 1024;   // PagerDuty accepts up to 512 KB
};

Result<std::unique_ptr<Notifier>> MakePagerDutyNotifier(PagerDutyConfig config);

// The PagerDuty severity for a Vigil severity.
std::string_view PagerDutySeverity(std::string_view severity);

}  // namespace vigil::alerts
