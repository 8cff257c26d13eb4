// The Discourse platform adapter: turns one `post_created` / `post_edited` webhook
// delivery into a post in Vigil's schema (DESIGN.md, "Contracts").
//
// Discourse POSTs `{"post": {...}}` (WebHookPostSerializer) with the headers
// X-Discourse-Event (post_created, post_edited, ping, topic_created, ...),
// X-Discourse-Instance (the forum's base URL) and, when the webhook has a secret,
// X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256 of the raw body>.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace vigil::connectors {

// One delivery: header values as received and the raw body, unmodified (the signature
// covers its exact bytes).
struct DiscourseRequest {
  std::string_view event;      // X-Discourse-Event
  std::string_view instance;   // X-Discourse-Instance, e.g. "https://forum.example.com"
  std::string_view signature;  // X-Discourse-Event-Signature, "sha256=<hex>"
  std::string_view body;
};

enum class DiscourseOutcome { kPost, kIgnored };

struct DiscourseResult {
  DiscourseOutcome outcome = DiscourseOutcome::kIgnored;
  // kPost: the post id ("discourse:<host>:<post id>", the same on every re-delivery and
  // edit, so downstream hit ids repeat) and the post JSON in Vigil's schema.
  std::string post_id;
  std::string post_json;
  // kIgnored: why, from a small closed set: "ping", the event name ("topic_created",
  // "post_destroyed", ...), "private_message", "whisper", "small_action",
  // "deleted_post". Safe as a metric label.
  std::string reason;
};

// Verifies and translates one delivery. With a non-empty `secret` the signature must be
// present and match (constant-time compare), else an error saying which; an empty
// secret skips verification. `community_override`, when not empty, replaces the
// category as the post's community. Errors name the header or field and why
// ("post.id: expected an integer") and never quote post text. Thread-safe.
Result<DiscourseResult> TranslateDiscourseWebhook(const DiscourseRequest& request,
                                                  std::string_view secret,
                                                  std::string_view community_override = {});

}  // namespace vigil::connectors
