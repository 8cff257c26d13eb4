// The channel layer of paging. A Notification is channel-neutral: what one step of one
// incident (a page, a reminder, a digest, an acknowledgement or a resolve notice) says.
// A Notifier renders it for one channel as an OutgoingRequest (URL, headers, body, signed
// where the channel supports it); a Sender delivers that request and classifies the
// outcome; the notifier then reads the channel's answer (robots answer 200 with an error
// code in the body). The outbox dispatcher owns retries, back-off and the dead state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace vigil::alerts {

struct Notification {
  std::string kind;  // page | reminder | digest | acknowledge | resolve
  int64_t incident_id = 0;
  std::string idempotency_key;  // incident id + step; a header or dedup field where supported
  std::string title;            // "[HIGH] privacy_leak: privacy.cn_resident_id in 拾光吧"
  std::string severity;         // info | low | medium | high | critical
  std::string category, rule_id, owner, community, state;
  int64_t hits = 0;
  int escalation_level = 0;
  std::string incident_url, ack_url;  // links into Vigil's API / console
  // Already masked upstream. Renderers send no other post text than these.
  std::vector<std::string> excerpts;
  // Channel-specific ids: WeCom userid or mobile, DingTalk mobile or userId, Feishu
  // open_id, Slack "<@U…>"; "all" (or "@all") mentions everyone where the channel can.
  std::vector<std::string> mentions;
  int64_t opened_ms = 0;     // when the incident opened (Alertmanager startsAt); 0: timestamp_ms
  int64_t timestamp_ms = 0;  // when this step was decided
  int digest_count = 0;      // for a digest: how many pages were folded into it
};

struct OutgoingRequest {
  std::string url;  // http(s):// for HttpSender, smtp(s):// for SmtpSender
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // SMTP only: the envelope; the body is then an RFC 5322 message.
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  // Which configured destination sends it (the channel name): a sender may hold
  // per-destination transport settings (SMTP login, STARTTLS). Not sent anywhere.
  std::string profile;

  // The first header of that name (case-insensitive), or "" when absent.
  std::string Header(std::string_view name) const;
};

enum class Delivery : uint8_t {
  kDelivered,  // the receiver accepted it
  kRetryable,  // try again later (5xx, 408, 429, timeouts, connection errors, rate limits)
  kPermanent,  // the same request will fail again (bad config, rejected payload)
};
std::string_view DeliveryName(Delivery delivery);

struct DeliveryOutcome {
  Delivery delivery = Delivery::kRetryable;
  int status = 0;              // HTTP status or last SMTP reply code; 0 when none came
  int64_t retry_after_ms = 0;  // > 0 when the receiver asked to wait (Retry-After)
  std::string body;            // the response body, at most 4 KiB (robots' error codes)
  std::string detail;          // one short line for logs, never the request body
};

// Delivers rendered requests. Implementations: HttpSender, SmtpSender; tests use fakes.
// One instance per worker thread unless the implementation says otherwise.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual DeliveryOutcome Send(const OutgoingRequest& request) = 0;
};

// One configured destination on one channel. Immutable after construction; Render and
// Interpret are const and thread-safe.
class Notifier {
 public:
  virtual ~Notifier() = default;
  // "webhook", "slack", "pagerduty", "alertmanager", "wecom", "dingtalk", "feishu", "email".
  virtual std::string_view channel() const = 0;
  // The request for `notification`, signed with `now_ms` where the channel signs with a
  // timestamp. An error means this notification can never be rendered (unknown kind).
  virtual Result<OutgoingRequest> Render(const Notification& notification,
                                         int64_t now_ms) const = 0;
  // Refines the sender's classification with what the channel says in its answer. The
  // default keeps it: HTTP status rules only.
  virtual DeliveryOutcome Interpret(DeliveryOutcome sent) const { return sent; }
};

// Render, send, interpret. A render error comes back as a permanent outcome.
DeliveryOutcome Deliver(const Notifier& notifier, Sender& sender, const Notification& notification,
                        int64_t now_ms);

}  // namespace vigil::alerts
