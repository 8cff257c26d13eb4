// HttpSender against real receivers on 127.0.0.1: what arrives (body, headers,
// signatures) and how each kind of answer is classified. No test waits on a timer except
// the timeout case, which waits for libcurl's own 200 ms deadline on a silent receiver.
#include "alerts/http_sender.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "alerts/dingtalk_notifier.h"
#include "alerts/feishu_notifier.h"
#include "alerts/signing.h"
#include "alerts/webhook_notifier.h"
#include "alerts/wecom_notifier.h"
#include "tests/alerts/sample_notification.h"
#include "tests/testing/http_receiver.h"

namespace vigil::alerts {
namespace {

using nlohmann::json;
using vigil::testing::HttpReceiver;
using vigil::testing::ScriptedResponse;

OutgoingRequest Post(const std::string& url, std::string body = R"({"hello":"世界"})") {
  OutgoingRequest request;
  request.url = url;
  request.headers = {{"Content-Type", "application/json"}, {"X-Test", "1"}};
  request.body = std::move(body);
  return request;
}

std::unique_ptr<Notifier> Must(Result<std::unique_ptr<Notifier>> made) {
  EXPECT_TRUE(made.ok()) << made.error().ToString();
  return std::move(made.value());
}

TEST(HttpSenderTest, DeliversBodyAndHeadersIntact) {
  HttpReceiver receiver;
  HttpSender sender;
  const OutgoingRequest request = Post(receiver.url("/hook?a=1"));
  const DeliveryOutcome outcome = sender.Send(request);
  EXPECT_EQ(outcome.delivery, Delivery::kDelivered) << outcome.detail;
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.body, "ok");
  ASSERT_EQ(receiver.requests().size(), 1u);
  const auto got = receiver.requests().at(0);  // a copy: requests() returns a snapshot
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hook?a=1");
  EXPECT_EQ(got.body, request.body);
  EXPECT_EQ(got.Header("content-type"), "application/json");
  EXPECT_EQ(got.Header("X-Test"), "1");
  EXPECT_EQ(got.Header("Expect"), "");
}

TEST(HttpSenderTest, SignedWebhookArrivesVerifiable) {
  HttpReceiver receiver;
  HttpSender sender;
  auto notifier = Must(MakeWebhookNotifier({receiver.url("/vigil"), "whsec"}));
  const Notification n = testing::SamplePage();
  EXPECT_EQ(Deliver(*notifier, sender, n, 1'893'456'123'456).delivery, Delivery::kDelivered);
  const auto got = receiver.requests().at(0);
  // Verified the way a receiver would: HMAC over the raw body, with OpenSSL directly.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), "whsec", 5, reinterpret_cast<const unsigned char*>(got.body.data()),
       got.body.size(), digest, &length);
  EXPECT_EQ(got.Header("X-Vigil-Signature"),
            "sha256=" + HexLower(std::string(reinterpret_cast<char*>(digest), length)));
  EXPECT_EQ(got.Header("Idempotency-Key"), "incident-42-page-0");
  EXPECT_EQ(json::parse(got.body)["sent_at_ms"].get<int64_t>(),
            std::stoll(got.Header("X-Vigil-Timestamp")));
  EXPECT_EQ(json::parse(got.body)["excerpts"], json(n.excerpts));
}

TEST(HttpSenderTest, ServerErrorThenSuccess) {
  HttpReceiver receiver;
  receiver.Script({{500, "boom"}, {200, "fine"}});
  HttpSender sender;
  const DeliveryOutcome first = sender.Send(Post(receiver.url()));
  EXPECT_EQ(first.delivery, Delivery::kRetryable);
  EXPECT_EQ(first.status, 500);
  EXPECT_EQ(first.detail, "HTTP 500: boom");
  const DeliveryOutcome second = sender.Send(Post(receiver.url()));
  EXPECT_EQ(second.delivery, Delivery::kDelivered);
  EXPECT_EQ(receiver.requests().size(), 2u);
  EXPECT_EQ(receiver.requests()[0].body, receiver.requests()[1].body);
}

TEST(HttpSenderTest, StatusClassification) {
  HttpReceiver receiver;
  HttpSender sender;
  const std::pair<int, Delivery> cases[] = {
      {200, Delivery::kDelivered}, {202, Delivery::kDelivered}, {204, Delivery::kDelivered},
      {301, Delivery::kPermanent}, {400, Delivery::kPermanent}, {401, Delivery::kPermanent},
      {404, Delivery::kPermanent}, {408, Delivery::kRetryable}, {410, Delivery::kPermanent},
      {429, Delivery::kRetryable}, {500, Delivery::kRetryable}, {502, Delivery::kRetryable},
      {503, Delivery::kRetryable}};
  for (const auto& [status, expected] : cases) {
    ScriptedResponse response{status, status == 204 ? "" : "x"};  // 204 has no body
    if (status == 301) response.headers = {{"Location", receiver.url("/elsewhere")}};
    receiver.Script({response});
    const DeliveryOutcome outcome = sender.Send(Post(receiver.url()));
    EXPECT_EQ(outcome.status, status);
    EXPECT_EQ(outcome.delivery, expected) << status << ": " << outcome.detail;
  }
  EXPECT_EQ(receiver.requests().size(), std::size(cases));  // the redirect was not followed
}

TEST(HttpSenderTest, RetryAfterInSecondsAndAsHttpDate) {
  HttpReceiver receiver;
  FakeClock clock(FromMillis(1'445'412'420'000));  // Wed, 21 Oct 2015 07:27:00 GMT
  HttpSender sender({}, clock);
  receiver.Script({{429, "slow down", {{"Retry-After", "7"}}},
                   {503, "maintenance", {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}},
                   {429, "no hint"}});
  const DeliveryOutcome seconds = sender.Send(Post(receiver.url()));
  EXPECT_EQ(seconds.delivery, Delivery::kRetryable);
  EXPECT_EQ(seconds.retry_after_ms, 7000);
  const DeliveryOutcome date = sender.Send(Post(receiver.url()));
  EXPECT_EQ(date.delivery, Delivery::kRetryable);
  EXPECT_EQ(date.retry_after_ms, 60'000);
  EXPECT_EQ(sender.Send(Post(receiver.url())).retry_after_ms, 0);
  EXPECT_EQ(ParseRetryAfter(" 120 ", 0), 120'000);
  EXPECT_EQ(ParseRetryAfter("soon", 0), 0);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 1'445'412'500'000), 0);  // past
}

TEST(HttpSenderTest, RobotAnswering200WithErrcodeIsInterpretedByItsNotifier) {
  HttpReceiver receiver;
  HttpSender sender;
  auto dingtalk =
      Must(MakeDingTalkNotifier({receiver.url("/robot/send?access_token=t"), "SECxyz"}));
  receiver.Script(
      {{200, R"({"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"})"},
       {200, R"({"errcode":310000,"errmsg":"sign not match"})"},
       {200, R"({"errcode":0,"errmsg":"ok"})"}});
  const Notification n = testing::SamplePage();
  const DeliveryOutcome limited = Deliver(*dingtalk, sender, n, 1'893'456'123'456);
  EXPECT_EQ(limited.delivery, Delivery::kRetryable);
  EXPECT_EQ(limited.detail, "HTTP 200, code 130101: send too fast, exceed 20 times per minute");
  EXPECT_EQ(Deliver(*dingtalk, sender, n, 1'893'456'123'456).delivery, Delivery::kPermanent);
  EXPECT_EQ(Deliver(*dingtalk, sender, n, 1'893'456'123'456).delivery, Delivery::kDelivered);
  // The signature arrived as query parameters, intact.
  const std::string target = receiver.requests().at(0).target;
  EXPECT_NE(target.find("/robot/send?access_token=t&timestamp=1893456123456&sign=" +
                        PercentEncode(DingTalkSign(1'893'456'123'456, "SECxyz"))),
            std::string::npos);

  auto wecom = Must(MakeWeComNotifier({receiver.url("/cgi-bin/webhook/send?key=k")}));
  receiver.Script({{200, R"({"errcode":45009,"errmsg":"api freq out of limit"})"}});
  EXPECT_EQ(Deliver(*wecom, sender, n, 0).delivery, Delivery::kRetryable);

  auto feishu = Must(MakeFeishuNotifier({receiver.url("/open-apis/bot/v2/hook/h"), "fsec"}));
  receiver.Script({{200, R"({"code":11232,"msg":"frequency limited"})"},
                   {200, R"({"code":0,"msg":"success"})"}});
  EXPECT_EQ(Deliver(*feishu, sender, n, 1'893'456'123'456).delivery, Delivery::kRetryable);
  EXPECT_EQ(Deliver(*feishu, sender, n, 1'893'456'123'456).delivery, Delivery::kDelivered);
  const json card = json::parse(receiver.requests().back().body);
  EXPECT_EQ(card["timestamp"], "1893456123");
  EXPECT_EQ(card["sign"], FeishuSign(1'893'456'123, "fsec"));
}

TEST(HttpSenderTest, ConnectionRefusedIsRetryable) {
  uint16_t port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }  // closed: nothing listens there now
  HttpSender sender;
  const DeliveryOutcome outcome =
      sender.Send(Post("http://127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_EQ(outcome.delivery, Delivery::kRetryable);
  EXPECT_EQ(outcome.status, 0);
  EXPECT_FALSE(outcome.detail.empty());
}

TEST(HttpSenderTest, ClosedWithoutReplyAndTimeoutAreRetryable) {
  HttpReceiver receiver;
  receiver.Script({ScriptedResponse::Close(), ScriptedResponse::Hang()});
  HttpSenderConfig config;
  config.total_timeout = std::chrono::milliseconds(200);
  HttpSender sender(config);
  const DeliveryOutcome closed = sender.Send(Post(receiver.url()));
  EXPECT_EQ(closed.delivery, Delivery::kRetryable) << closed.detail;
  const DeliveryOutcome silent = sender.Send(Post(receiver.url()));
  EXPECT_EQ(silent.delivery, Delivery::kRetryable) << silent.detail;
  EXPECT_NE(silent.detail.find("imeout"), std::string::npos) << silent.detail;
  EXPECT_EQ(receiver.requests().size(), 2u);  // both requests were fully sent
}

TEST(HttpSenderTest, OnlyHttpAndHttpsAreSent) {
  HttpSender sender;
  EXPECT_EQ(sender.Send(Post("file:///etc/passwd")).delivery, Delivery::kPermanent);
  EXPECT_EQ(sender.Send(Post("smtp://127.0.0.1:1")).delivery, Delivery::kPermanent);
  EXPECT_EQ(sender.Send(Post("http://[::1")).delivery, Delivery::kPermanent);
}

TEST(HttpSenderTest, LargeReplyIsCappedForLogs) {
  HttpReceiver receiver;
  receiver.Script({{502, std::string(100'000, 'e')}});
  HttpSender sender;
  const DeliveryOutcome outcome = sender.Send(Post(receiver.url()));
  EXPECT_EQ(outcome.delivery, Delivery::kRetryable);
  EXPECT_EQ(outcome.body.size(), 4096u);
  EXPECT_LE(outcome.detail.size(), 220u);
}

}  // namespace
}  // namespace vigil::alerts
