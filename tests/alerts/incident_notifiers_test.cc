// The incident-tool channels (generic webhook, PagerDuty, Alertmanager, e-mail), and the
// contract every channel keeps: each page carries the link, severity, owner, count and
// masked excerpts, and the excerpts are the only post text a notifier sends.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <functional>

#include <fmt/format.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "alerts/alertmanager_notifier.h"
#include "alerts/dingtalk_notifier.h"
#include "alerts/email_notifier.h"
#include "alerts/feishu_notifier.h"
#include "alerts/notification_format.h"
#include "alerts/pagerduty_notifier.h"
#include "alerts/signing.h"
#include "alerts/slack_notifier.h"
#include "alerts/webhook_notifier.h"
#include "alerts/wecom_notifier.h"
#include "tests/alerts/sample_notification.h"

namespace vigil::alerts {
namespace {

using nlohmann::json;
using testing::AllStrings;
using testing::CountShown;
using testing::ManyExcerpts;
using testing::SamplePage;

constexpr int64_t kNowMs = 1'893'456'123'456;

std::unique_ptr<Notifier> Must(Result<std::unique_ptr<Notifier>> made) {
  EXPECT_TRUE(made.ok()) << made.error().ToString();
  return std::move(made.value());
}

std::string IndependentHmacHex(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// The e-mail's header block and decoded text.
std::pair<std::string, std::string> SplitMail(const std::string& message) {
  const size_t split = message.find("\r\n\r\n");
  std::string encoded;
  for (char c : message.substr(split + 4))
    if (c != '\r' && c != '\n') encoded += c;
  return {message.substr(0, split + 2), Base64Decode(encoded).value_or("<bad base64>")};
}

TEST(WebhookNotifierTest, SignedJsonWithStableIdempotencyKey) {
  auto notifier = Must(MakeWebhookNotifier(
      {"https://hooks.example/vigil", "whsec", {{"Authorization", "Bearer t"}}}));
  const Notification n = SamplePage();
  const Result<OutgoingRequest> first = notifier->Render(n, kNowMs);
  const Result<OutgoingRequest> retry = notifier->Render(n, kNowMs + 30'000);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->Header("X-Vigil-Signature"),
            "sha256=" + IndependentHmacHex("whsec", first->body));
  EXPECT_EQ(first->Header("X-Vigil-Timestamp"), std::to_string(kNowMs));
  EXPECT_EQ(first->Header("Idempotency-Key"), "incident-42-page-0");
  EXPECT_EQ(retry->Header("Idempotency-Key"), first->Header("Idempotency-Key"));
  EXPECT_EQ(first->Header("authorization"), "Bearer t");
  const json body = json::parse(first->body);
  EXPECT_EQ(body["sent_at_ms"], kNowMs);  // the signature covers the timestamp
  EXPECT_EQ(body["incident_id"], 42);
  EXPECT_EQ(body["severity"], "high");
  EXPECT_EQ(body["owner"], "legal");
  EXPECT_EQ(body["hits"], 17);
  EXPECT_EQ(body["excerpts"], json(n.excerpts));
  EXPECT_EQ(body["opened_at"], "2030-01-01T00:00:00.000Z");
  auto unsigned_notifier = Must(MakeWebhookNotifier({"https://hooks.example/vigil"}));
  EXPECT_EQ(unsigned_notifier->Render(n, kNowMs)->Header("X-Vigil-Signature"), "");
  EXPECT_FALSE(MakeWebhookNotifier({"https://hooks.example", "", {{"X", "a\nb"}}}).ok());
}

TEST(WebhookNotifierTest, BodyLimitDropsExcerptsWithACount) {
  auto notifier = Must(MakeWebhookNotifier({"https://hooks.example/vigil", "", {}, 8 * 1024}));
  Notification n = SamplePage();
  n.excerpts = ManyExcerpts(300);
  const std::string body = notifier->Render(n, kNowMs)->body;
  EXPECT_LE(body.size(), 8u * 1024);
  const json document = json::parse(body);
  EXPECT_EQ(document["excerpts"].size() + document["excerpts_omitted"].get<size_t>(), 300u);
  EXPECT_GT(document["excerpts"].size(), 10u);
}

TEST(PagerDutyNotifierTest, TriggerAcknowledgeResolveShareOneDedupKey) {
  auto notifier = Must(MakePagerDutyNotifier({"R0UTINGKEY"}));
  Notification n = SamplePage();
  const Result<OutgoingRequest> page = notifier->Render(n, kNowMs);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->url, "https://events.pagerduty.com/v2/enqueue");
  const json trigger = json::parse(page->body);
  EXPECT_EQ(trigger["routing_key"], "R0UTINGKEY");
  EXPECT_EQ(trigger["event_action"], "trigger");
  EXPECT_EQ(trigger["dedup_key"], "vigil-incident-42");
  EXPECT_EQ(trigger["payload"]["summary"], n.title);
  EXPECT_EQ(trigger["payload"]["severity"], "error");
  EXPECT_EQ(trigger["payload"]["source"], "vigil");
  EXPECT_EQ(trigger["payload"]["timestamp"], "2030-01-01T00:01:00.000Z");
  EXPECT_EQ(trigger["payload"]["custom_details"]["owner"], "legal");
  EXPECT_EQ(trigger["payload"]["custom_details"]["hits"], 17);
  EXPECT_EQ(trigger["payload"]["custom_details"]["idempotency_key"], "incident-42-page-0");
  EXPECT_EQ(trigger["payload"]["custom_details"]["excerpts"], json(n.excerpts));
  EXPECT_EQ(trigger["links"][0]["href"], n.incident_url);
  EXPECT_EQ(trigger["client_url"], n.incident_url);

  n.kind = "reminder";
  n.idempotency_key = "incident-42-remind-1";
  EXPECT_EQ(json::parse(notifier->Render(n, kNowMs)->body)["dedup_key"], "vigil-incident-42");
  for (const std::string kind : {"acknowledge", "resolve"}) {
    n.kind = kind;
    const json event = json::parse(notifier->Render(n, kNowMs + 1)->body);
    EXPECT_EQ(event["event_action"], kind);
    EXPECT_EQ(event["dedup_key"], "vigil-incident-42");
    EXPECT_FALSE(event.contains("payload"));
  }
  EXPECT_EQ(PagerDutySeverity("critical"), "critical");
  EXPECT_EQ(PagerDutySeverity("medium"), "warning");
  EXPECT_EQ(PagerDutySeverity("low"), "info");
  EXPECT_FALSE(MakePagerDutyNotifier({""}).ok());
  PagerDutyConfig custom{"K"};
  custom.url = "http://127.0.0.1:9/v2/enqueue";
  EXPECT_EQ(Must(MakePagerDutyNotifier(custom))->Render(SamplePage(), kNowMs)->url, custom.url);
}

TEST(AlertmanagerNotifierTest, PostsOneAlertWithStableLabels) {
  AlertmanagerConfig config{"http://alertmanager:9093/"};
  config.extra_labels = {{"source", "vigil"}};
  auto notifier = Must(MakeAlertmanagerNotifier(config));
  Notification n = SamplePage();
  const Result<OutgoingRequest> request = notifier->Render(n, kNowMs);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->url, "http://alertmanager:9093/api/v2/alerts");
  const json alerts = json::parse(request->body);
  ASSERT_TRUE(alerts.is_array());
  ASSERT_EQ(alerts.size(), 1u);
  const json& alert = alerts[0];
  EXPECT_EQ(alert["labels"], json({{"alertname", "privacy.cn_resident_id"},
                                   {"vigil_incident", "42"},
                                   {"severity", "high"},
                                   {"category", "privacy_leak"},
                                   {"owner", "legal"},
                                   {"community", "拾光吧"},
                                   {"source", "vigil"}}));
  EXPECT_EQ(alert["annotations"]["summary"], n.title);
  EXPECT_EQ(alert["annotations"]["hits"], "17");
  EXPECT_NE(alert["annotations"]["description"].get<std::string>().find(n.excerpts[0]),
            std::string::npos);
  EXPECT_EQ(alert["startsAt"], "2030-01-01T00:00:00.000Z");
  EXPECT_EQ(alert["endsAt"], Rfc3339(kNowMs + 24 * 3600 * 1000));
  EXPECT_EQ(alert["generatorURL"], n.incident_url);

  n.kind = "resolve";
  const json resolved = json::parse(notifier->Render(n, kNowMs)->body)[0];
  EXPECT_EQ(resolved["endsAt"], Rfc3339(kNowMs));
  EXPECT_EQ(resolved["labels"], alert["labels"]);  // same alert, now resolved
  config.extra_labels = {{"bad-name", "x"}};
  EXPECT_FALSE(MakeAlertmanagerNotifier(config).ok());
  config.extra_labels = {{"severity", "x"}};
  EXPECT_FALSE(MakeAlertmanagerNotifier(config).ok());
}

TEST(EmailNotifierTest, RendersAnRfc5322MessageWithEncodedSubject) {
  auto notifier =
      Must(MakeEmailNotifier({"smtp://mail.example:587",
                              "Vigil 告警 <vigil@example.com>",
                              {"legal@example.com", "Crisis Desk <crisis@example.com>"}}));
  const Notification n = SamplePage();
  const Result<OutgoingRequest> request = notifier->Render(n, kNowMs);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->url, "smtp://mail.example:587");
  EXPECT_EQ(request->mail_from, "vigil@example.com");
  EXPECT_EQ(request->rcpt_to,
            (std::vector<std::string>{"legal@example.com", "crisis@example.com"}));
  const auto [headers, text] = SplitMail(request->body);
  EXPECT_NE(headers.find("Date: " + Rfc5322Date(kNowMs) + "\r\n"), std::string::npos);
  EXPECT_NE(headers.find("From: " + EncodeHeaderText("Vigil 告警") + " <vigil@example.com>\r\n"),
            std::string::npos);
  EXPECT_NE(headers.find("To: legal@example.com,\r\n \"Crisis Desk\" <crisis@example.com>\r\n"),
            std::string::npos);
  EXPECT_NE(headers.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(headers.find("Content-Type: text/plain; charset=UTF-8\r\n"), std::string::npos);
  EXPECT_NE(headers.find("References: <incident-42.vigil@example.com>\r\n"), std::string::npos);
  for (const std::string& needle : {n.title, n.incident_url, n.ack_url, std::string("legal"),
                                    std::string("17"), n.excerpts[0], n.excerpts[1]})
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  for (size_t at = 0; (at = request->body.find("\n", at + 1)) != std::string::npos;)
    ASSERT_EQ(request->body[at - 1], '\r');  // CRLF only

  // The Message-ID depends on the idempotency key only: a retry is the same message.
  auto message_id = [](const std::string& message) {
    const size_t at = message.find("Message-ID: ");
    return message.substr(at, message.find("\r\n", at) - at);
  };
  EXPECT_EQ(message_id(request->body), message_id(notifier->Render(n, kNowMs + 60'000)->body));
  Notification next = n;
  next.idempotency_key = "incident-42-page-1";
  EXPECT_NE(message_id(request->body), message_id(notifier->Render(next, kNowMs)->body));
}

TEST(EmailNotifierTest, EncodedWordsAreShortAndSplitBetweenCharacters) {
  const std::string subject =
      "[HIGH] privacy_leak: 身份证号泄露 in 拾光吧 拾光吧 拾光吧 拾光吧 拾光吧 拾光吧";
  const std::string encoded = EncodeHeaderText(subject);
  std::string decoded;
  size_t start = 0;
  while ((start = encoded.find("=?UTF-8?B?", start)) != std::string::npos) {
    const size_t end = encoded.find("?=", start + 10);
    EXPECT_LE(end + 2 - start, 75u);
    const auto chunk = Base64Decode(encoded.substr(start + 10, end - start - 10));
    ASSERT_TRUE(chunk.has_value());
    EXPECT_EQ(TruncateUtf8(*chunk, chunk->size()), *chunk);  // whole characters
    decoded += *chunk;
    start = end + 2;
  }
  EXPECT_EQ(decoded, subject);
  EXPECT_EQ(EncodeHeaderText("plain ascii"), "plain ascii");
  EXPECT_FALSE(MakeEmailNotifier({"http://mail", "a@b", {"c@d"}}).ok());
  EXPECT_FALSE(MakeEmailNotifier({"smtp://mail", "not-an-address", {"c@d"}}).ok());
  EXPECT_FALSE(MakeEmailNotifier({"smtp://mail", "a@b", {}}).ok());
  EXPECT_FALSE(MakeEmailNotifier({"smtp://mail", "a@b", {"x@y>\r\nBcc: z@w"}}).ok());
}

// Every channel, for the contract tests.
std::vector<std::unique_ptr<Notifier>> AllNotifiers() {
  std::vector<std::unique_ptr<Notifier>> all;
  all.push_back(Must(MakeWebhookNotifier({"https://hooks.example/v", "s"})));
  all.push_back(Must(MakeSlackNotifier({"https://hooks.slack.com/services/T/B/X"})));
  all.push_back(Must(MakePagerDutyNotifier({"K"})));
  all.push_back(Must(MakeAlertmanagerNotifier({"http://am:9093"})));
  all.push_back(
      Must(MakeWeComNotifier({"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"})));
  all.push_back(
      Must(MakeDingTalkNotifier({"https://oapi.dingtalk.com/robot/send?access_token=t", "SEC1"})));
  all.push_back(Must(MakeFeishuNotifier({"https://open.feishu.cn/open-apis/bot/v2/hook/h", "s"})));
  all.push_back(
      Must(MakeEmailNotifier({"smtp://mail:25", "vigil@example.com", {"legal@example.com"}})));
  return all;
}

// What a person reading the page sees.
std::string Visible(const Notifier& notifier, const OutgoingRequest& request) {
  if (notifier.channel() == "email") return SplitMail(request.body).second;
  return AllStrings(json::parse(request.body));
}

TEST(NotifierContractTest, EveryPageCarriesLinkSeverityOwnerCountAndExcerpts) {
  const Notification n = SamplePage();
  for (const auto& notifier : AllNotifiers()) {
    const Result<OutgoingRequest> request = notifier->Render(n, kNowMs);
    ASSERT_TRUE(request.ok()) << notifier->channel();
    const std::string visible = Visible(*notifier, *request);
    for (const std::string& needle : {n.incident_url, n.severity, n.owner, std::string("17")})
      EXPECT_NE(visible.find(needle), std::string::npos) << notifier->channel() << ": " << needle;
    for (const std::string& excerpt : n.excerpts)  // as is, or made inert for markdown
      EXPECT_TRUE(visible.find(excerpt) != std::string::npos ||
                  visible.find(Defang(excerpt)) != std::string::npos)
          << notifier->channel() << ": " << excerpt;
  }
}

TEST(NotifierContractTest, ExcerptsAreTheOnlyPostText) {
  // Two pages that differ only in their excerpts (same lengths) must render to bodies that
  // differ only where the excerpts are: nothing else derived from post text is sent.
  Notification a = SamplePage(), b = SamplePage();
  a.excerpts = {"AAAA 110105********002X AAAA", "aaaa"};
  b.excerpts = {"BBBB 110105********002X BBBB", "bbbb"};
  for (const auto& notifier : AllNotifiers()) {
    const std::string body_a = Visible(*notifier, *notifier->Render(a, kNowMs));
    const std::string body_b = Visible(*notifier, *notifier->Render(b, kNowMs));
    std::string replaced = body_a;
    for (size_t i = 0; i < a.excerpts.size(); ++i) {
      for (const auto& [from, to] : {std::pair(a.excerpts[i], b.excerpts[i]),
                                     std::pair(Defang(a.excerpts[i]), Defang(b.excerpts[i]))})
        for (size_t at = 0; (at = replaced.find(from, at)) != std::string::npos; at += to.size())
          replaced.replace(at, from.size(), to);
    }
    EXPECT_EQ(replaced, body_b) << notifier->channel();
    EXPECT_NE(replaced, body_a) << notifier->channel();  // the excerpts were there
  }
}

TEST(NotifierContractTest, UnknownKindIsARenderErrorForEveryChannel) {
  Notification n = SamplePage();
  n.kind = "shout";
  for (const auto& notifier : AllNotifiers())
    EXPECT_FALSE(notifier->Render(n, kNowMs).ok()) << notifier->channel();
}

}  // namespace
}  // namespace vigil::alerts
