// E-mail: an RFC 5322 message for SmtpSender (the request's url is the SMTP server, its
// mail_from / rcpt_to the envelope, its body the message).
//
//   Date, From, To, Subject (RFC 2047 "=?UTF-8?B?…?=" encoded-words when not plain ASCII),
//   Message-ID: <sha256(idempotency key)[:32].vigil@domain>  (the same for every attempt
//     of one step, so receivers and archives see duplicates as one message),
//   In-Reply-To / References: <incident-<id>.vigil@domain>   (one thread per incident),
//   MIME-Version, Content-Type: text/plain; charset=UTF-8, Content-Transfer-Encoding:
//   base64, Auto-Submitted: auto-generated, X-Vigil-Incident, X-Vigil-Idempotency-Key.
// The body is plain text: headline, facts, masked excerpts, links. E-mail is not signed
// here; DKIM belongs to the sending mail server.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/notifier.h"
#include "core/result.h"

namespace vigil::alerts {

struct EmailConfig {
  std::string smtp_url;           // smtp://host:587 (STARTTLS) or smtps://host:465
  std::string from;               // "Vigil 告警 <vigil@example.com>" or "vigil@example.com"
  std::vector<std::string> to;    // addresses, each "Name <a@b>" or "a@b"
  std::string message_id_domain;  // default: the domain of the From address
  size_t max_body_bytes = 256 * 1024;
};

Result<std::unique_ptr<Notifier>> MakeEmailNotifier(EmailConfig config);

// Printable ASCII as is; anything else as RFC 2047 B encoded-words of at most 75
// characters, split between UTF-8 characters and folded with CRLF SP.
std::string EncodeHeaderText(std::string_view text);

}  // namespace vigil::alerts
