// Delivers an OutgoingRequest over HTTP(S) with libcurl's easy interface and classifies
// the outcome:
//   delivered  2xx
//   retryable  5xx, 408, 429 (Retry-After parsed: seconds or an HTTP-date), timeouts,
//              connection, DNS and TLS-handshake errors, an empty or cut reply
//   permanent  other 4xx, 3xx (redirects are not followed), a malformed URL, a
//              certificate that fails verification
// TLS peers are always verified. Only http and https are allowed. Proxies come from the
// config only, never from the environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "alerts/notifier.h"
#include "core/clock.h"

namespace vigil::alerts {

struct HttpSenderConfig {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{15000};
  std::string ca_file;  // extra CA bundle (PEM); empty: the system's
  std::string proxy;    // "http://proxy:3128"; empty: none
  std::string user_agent = "vigil";
};

// Not thread-safe: one per worker thread. It keeps connections alive between requests.
class HttpSender : public Sender {
 public:
  // `clock` turns an HTTP-date Retry-After into a delay; it must outlive the sender.
  explicit HttpSender(HttpSenderConfig config = {}, const Clock& clock = SystemClock::Instance());
  ~HttpSender() override;
  HttpSender(const HttpSender&) = delete;
  HttpSender& operator=(const HttpSender&) = delete;

  DeliveryOutcome Send(const OutgoingRequest& request) override;

 private:
  const HttpSenderConfig config_;
  const Clock& clock_;
  void* curl_;  // CURL*
};

// Milliseconds to wait from a Retry-After value (delay-seconds or an HTTP-date); 0 when
// absent, unparseable or in the past.
int64_t ParseRetryAfter(std::string_view value, int64_t now_ms);

// Shared with SmtpSender. curl_global_init, once per process (thread-safe).
void InitCurlOnce();
// The class of a libcurl error (a CURLcode) when no reply says otherwise.
Delivery ClassifyCurlError(int code);
// The first bytes of a reply as one printable line, for logs.
std::string ReplyExcerpt(std::string_view body);

}  // namespace vigil::alerts
