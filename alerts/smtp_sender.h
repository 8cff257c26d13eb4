// Delivers a rendered e-mail (see email_notifier.h) over SMTP with libcurl: smtps:// is
// TLS from the first byte; smtp:// upgrades with STARTTLS, required unless turned off
// (for a relay on localhost). AUTH when a username is set, then MAIL FROM, one RCPT TO
// per recipient, DATA. Classification:
//   delivered  the server accepted the message (250 after DATA)
//   retryable  a 4xx reply (greylisting, mailbox busy), timeouts, connection errors
//   permanent  a 5xx reply (unknown recipient, rejected sender), failed login, STARTTLS
//              required but not offered, a certificate that fails verification
// TLS peers are always verified.
#pragma once

#include <chrono>
#include <string>

#include "alerts/notifier.h"

namespace vigil::alerts {

struct SmtpSenderConfig {
  std::string username;  // empty: no AUTH
  std::string password;
  bool starttls = true;  // smtp:// only: refuse to send unless STARTTLS succeeds
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{60000};
  std::string ca_file;  // extra CA bundle (PEM); empty: the system's
};

// Not thread-safe: one per worker thread.
class SmtpSender : public Sender {
 public:
  explicit SmtpSender(SmtpSenderConfig config = {});
  ~SmtpSender() override;
  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;

  // REQUIRES: request.url is smtp:// or smtps://, mail_from and rcpt_to are set.
  DeliveryOutcome Send(const OutgoingRequest& request) override;

 private:
  const SmtpSenderConfig config_;
  void* curl_;  // CURL*
};

}  // namespace vigil::alerts
