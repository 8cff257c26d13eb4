#include "alerts/http_sender.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <mutex>

#include <fmt/format.h>

#include "alerts/notification_format.h"

namespace vigil::alerts {

namespace {

constexpr size_t kMaxReplyBytes = 4096;

struct Reply {
  std::string body;
  std::string retry_after;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* reply = static_cast<Reply*>(user);
  const size_t bytes = size * count;
  const size_t room = kMaxReplyBytes - std::min(kMaxReplyBytes, reply->body.size());
  reply->body.append(data, std::min(bytes, room));
  return bytes;  // the rest is read and dropped
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* reply = static_cast<Reply*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) reply->retry_after.clear();  // a new response (after 1xx)
  static constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
    line.remove_prefix(kName.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' '))
      line.remove_suffix(1);
    reply->retry_after = std::string(line);
  }
  return bytes;
}

}  // namespace

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Delivery ClassifyCurlError(int code) {
  switch (static_cast<CURLcode>(code)) {
    case CURLE_OK:
      return Delivery::kDelivered;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_USE_SSL_FAILED:
    case CURLE_LOGIN_DENIED:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_FILESIZE_EXCEEDED:
      return Delivery::kPermanent;
    default:
      // Timeouts, refused or reset connections, DNS, TLS handshakes, empty replies and
      // anything unforeseen: a later attempt may succeed, and the outbox's retry budget
      // ends in a visible dead state rather than a silent drop.
      return Delivery::kRetryable;
  }
}

std::string ReplyExcerpt(std::string_view body) {
  std::string line = TruncateUtf8(body, 200);
  for (char& c : line)
    if (static_cast<unsigned char>(c) < ' ') c = ' ';
  return line;
}

int64_t ParseRetryAfter(std::string_view value, int64_t now_ms) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return 0;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9)
      return int64_t{999'999'999} * 1000;  // absurd, but honoured as "very long"
    return std::stoll(std::string(value)) * 1000;
  }
  const time_t at = curl_getdate(std::string(value).c_str(), nullptr);
  if (at < 0) return 0;
  return std::max<int64_t>(0, static_cast<int64_t>(at) * 1000 - now_ms);
}

HttpSender::HttpSender(HttpSenderConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {
  InitCurlOnce();
  curl_ = curl_easy_init();
}

HttpSender::~HttpSender() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

DeliveryOutcome HttpSender::Send(const OutgoingRequest& request) {
  DeliveryOutcome outcome;
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    outcome.detail = "libcurl could not create a handle";
    return outcome;  // retryable
  }
  curl_easy_reset(curl);  // keeps the connection cache
  char error[CURL_ERROR_SIZE] = {0};
  Reply reply;
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers)
    headers =
        curl_slist_append(headers, (value.empty() ? name + ";" : name + ": " + value).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip

  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_PROXY, config_.proxy.c_str());  // "" disables env proxies
  curl_easy_setopt(curl, CURLOPT_USERAGENT, config_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);

  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // `error` is about to go away

  outcome.body = std::move(reply.body);
  if (rc != CURLE_OK) {
    outcome.status = 0;
    outcome.delivery = ClassifyCurlError(rc);
    outcome.detail = fmt::format("{} ({})", error[0] != '\0' ? error : curl_easy_strerror(rc),
                                 curl_easy_strerror(rc));
    return outcome;
  }
  outcome.status = static_cast<int>(status);
  outcome.retry_after_ms = ParseRetryAfter(reply.retry_after, clock_.NowMillis());
  if (status >= 200 && status < 300)
    outcome.delivery = Delivery::kDelivered;
  else if (status >= 500 || status == 408 || status == 429)
    outcome.delivery = Delivery::kRetryable;
  else
    outcome.delivery = Delivery::kPermanent;
  outcome.detail = fmt::format("HTTP {}: {}", status, ReplyExcerpt(outcome.body));
  return outcome;
}

}  // namespace vigil::alerts
