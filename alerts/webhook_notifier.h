// Generic webhook: the whole notification as JSON, signed so the receiver can check that
// Vigil sent it.
//
//   POST <url>
//   Content-Type: application/json
//   Idempotency-Key: incident-42-page-0          (the same for every attempt of one step)
//   X-Vigil-Timestamp: 1893456000000             (Unix milliseconds of this attempt)
//   X-Vigil-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>   (when a secret is set)
//
// The body repeats the timestamp as "sent_at_ms", so the signature covers it: a receiver
// checks the HMAC over the raw body, that sent_at_ms equals the header, and that it is
// recent (replay protection), then deduplicates on the idempotency key.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "alerts/notifier.h"
#include "core/result.h"

namespace vigil::alerts {

struct WebhookConfig {
  std::string url;
  std::string secret;  // HMAC key; empty: no X-Vigil-Signature
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Authorization
  size_t max_body_bytes = 64 * 1024;  // excerpts are dropped ("excerpts_omitted") to fit
};

// Checks the URL and the size limit.
Result<std::unique_ptr<Notifier>> MakeWebhookNotifier(WebhookConfig config);

}  // namespace vigil::alerts
