#include "alerts/smtp_sender.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "alerts/http_sender.h"

namespace vigil::alerts {

namespace {

struct Upload {
  std::string_view data;
  size_t offset = 0;
};

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

SmtpSender::SmtpSender(SmtpSenderConfig config) : config_(std::move(config)) {
  InitCurlOnce();
  curl_ = curl_easy_init();
}

SmtpSender::~SmtpSender() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

DeliveryOutcome SmtpSender::Send(const OutgoingRequest& request) {
  DeliveryOutcome outcome;
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    outcome.detail = "libcurl could not create a handle";
    return outcome;  // retryable
  }
  const bool implicit_tls = request.url.starts_with("smtps://");
  if ((!implicit_tls && !request.url.starts_with("smtp://")) || request.mail_from.empty() ||
      request.rcpt_to.empty()) {
    outcome.delivery = Delivery::kPermanent;
    outcome.detail = "not an e-mail request (smtp:// or smtps:// URL, sender and recipients)";
    return outcome;
  }
  curl_easy_reset(curl);
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* recipients = nullptr;
  for (const std::string& rcpt : request.rcpt_to)
    recipients = curl_slist_append(recipients, ("<" + rcpt + ">").c_str());
  const std::string from = "<" + request.mail_from + ">";
  Upload upload{request.body};

  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (!implicit_tls && config_.starttls)
    curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!config_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);

  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(recipients);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);

  outcome.status = static_cast<int>(reply);
  if (rc == CURLE_OK) {
    outcome.delivery = Delivery::kDelivered;
    outcome.detail = fmt::format("SMTP {}: accepted", reply);
    return outcome;
  }
  if (rc == CURLE_LOGIN_DENIED || reply >= 500)
    outcome.delivery = Delivery::kPermanent;
  else if (reply >= 400)
    outcome.delivery = Delivery::kRetryable;
  else
    outcome.delivery = ClassifyCurlError(rc);
  outcome.detail =
      fmt::format("SMTP {}: {} ({})", reply, error[0] != '\0' ? error : curl_easy_strerror(rc),
                  curl_easy_strerror(rc));
  return outcome;
}

}  // namespace vigil::alerts
