// The chat channels: DingTalk, Feishu, WeCom and Slack payloads, signatures (against the
// published samples and an HMAC computed here with OpenSSL directly), mentions, and the
// size limits with "…and N more".
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "alerts/dingtalk_notifier.h"
#include "alerts/feishu_notifier.h"
#include "alerts/notification_format.h"
#include "alerts/signing.h"
#include "alerts/slack_notifier.h"
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

// Independent of alerts/signing.cc: OpenSSL's one-shot HMAC and EVP base64.
std::string IndependentHmacBase64(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  unsigned char encoded[64] = {0};
  EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
  return reinterpret_cast<char*>(encoded);
}

std::string QueryValue(const std::string& url, const std::string& name) {
  const size_t at = url.find("&" + name + "=") != std::string::npos ? url.find("&" + name + "=")
                                                                    : url.find("?" + name + "=");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 2;
  return url.substr(start, url.find('&', start) - start);
}

std::unique_ptr<Notifier> Must(Result<std::unique_ptr<Notifier>> made) {
  EXPECT_TRUE(made.ok()) << made.error().ToString();
  return std::move(made.value());
}

TEST(DingTalkNotifierTest, SignatureMatchesPublishedAlgorithmAndVectors) {
  // The robot's formula (DingTalk's Python/Java sample code), run by Python's hmac module
  // for timestamp 1700000000000 and secret "secret"; the Rust dingding crate's test uses
  // the same vector.
  EXPECT_EQ(PercentEncode(DingTalkSign(1'700'000'000'000, "secret")),
            "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D");
  const std::string secret = "SEC0123456789abcdef";
  EXPECT_EQ(DingTalkSign(kNowMs, secret),
            IndependentHmacBase64(secret, std::to_string(kNowMs) + "\n" + secret));
}

TEST(DingTalkNotifierTest, SignedUrlAndMarkdownBody) {
  auto notifier = Must(MakeDingTalkNotifier(
      {"https://oapi.dingtalk.com/robot/send?access_token=tok", "SECabc", 4096}));
  Notification n = SamplePage();
  n.mentions = {"13800001111", "manager01", "all"};
  const Result<OutgoingRequest> request = notifier->Render(n, kNowMs);
  ASSERT_TRUE(request.ok());
  EXPECT_TRUE(
      request->url.starts_with("https://oapi.dingtalk.com/robot/send?access_token=tok&timestamp="));
  EXPECT_EQ(QueryValue(request->url, "timestamp"), std::to_string(kNowMs));
  EXPECT_EQ(QueryValue(request->url, "sign"),
            PercentEncode(IndependentHmacBase64("SECabc", std::to_string(kNowMs) + "\nSECabc")));

  const json body = json::parse(request->body);
  EXPECT_EQ(body["msgtype"], "markdown");
  EXPECT_EQ(body["markdown"]["title"], n.title);
  const std::string text = body["markdown"]["text"];
  for (const std::string& needle :
       {n.incident_url, n.ack_url, std::string("high"), std::string("legal"),
        std::string("**Hits**: 17"), Defang(n.excerpts[0]), Defang(n.excerpts[1])})
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  // Masking stars stay stars (full-width), not markdown emphasis.
  EXPECT_NE(text.find("110105＊＊＊＊＊＊＊＊002X"), std::string::npos);
  EXPECT_EQ(body["at"]["atMobiles"], json::array({"13800001111"}));
  EXPECT_EQ(body["at"]["atUserIds"], json::array({"manager01"}));
  EXPECT_EQ(body["at"]["isAtAll"], true);
  EXPECT_NE(text.find("@13800001111"), std::string::npos);  // DingTalk highlights "@id" in text
}

TEST(DingTalkNotifierTest, UnsignedWithoutSecretAndErrcodes) {
  auto notifier =
      Must(MakeDingTalkNotifier({"https://oapi.dingtalk.com/robot/send?access_token=t", "", 4096}));
  EXPECT_EQ(notifier->Render(SamplePage(), kNowMs)->url,
            "https://oapi.dingtalk.com/robot/send?access_token=t");
  DeliveryOutcome sent;
  sent.status = 200;
  sent.delivery = Delivery::kDelivered;
  sent.body = R"({"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"})";
  EXPECT_EQ(notifier->Interpret(sent).delivery, Delivery::kRetryable);
  sent.body = R"({"errcode":310000,"errmsg":"sign not match"})";
  EXPECT_EQ(notifier->Interpret(sent).delivery, Delivery::kPermanent);
  sent.body = R"({"errcode":0,"errmsg":"ok"})";
  EXPECT_EQ(notifier->Interpret(sent).delivery, Delivery::kDelivered);
}

TEST(DingTalkNotifierTest, LongExcerptListIsCutToTheLimitWithACount) {
  auto notifier =
      Must(MakeDingTalkNotifier({"https://oapi.dingtalk.com/robot/send?access_token=t", "", 4096}));
  Notification n = SamplePage();
  n.excerpts = ManyExcerpts(200);
  const json body = json::parse(notifier->Render(n, kNowMs)->body);
  const std::string text = body["markdown"]["text"];
  EXPECT_LE(text.size(), 4096u);
  const size_t shown = CountShown(text, 200);
  EXPECT_GT(shown, 5u);
  EXPECT_LT(shown, 200u);
  EXPECT_NE(text.find(MoreLine(200 - shown)), std::string::npos);
  EXPECT_NE(text.find(n.incident_url), std::string::npos);  // links survive the cut
}

TEST(FeishuNotifierTest, SignatureIsKeyedByTimestampAndSecretOverAnEmptyMessage) {
  // Feishu's formula (its Go/Python sample code), run by Python's hmac module for
  // timestamp 1599360473 (the docs' example timestamp) and secret "test-secret".
  EXPECT_EQ(FeishuSign(1'599'360'473, "test-secret"),
            "wSds2BzzFIIGf/WrhUO+NI1q/9j+FRJd3JNHKAq0NZY=");
  EXPECT_EQ(FeishuSign(1'599'360'473, "test-secret"),
            IndependentHmacBase64("1599360473\ntest-secret", ""));
  // The common mistake (DingTalk's scheme) gives something else.
  EXPECT_NE(FeishuSign(1'599'360'473, "test-secret"),
            IndependentHmacBase64("test-secret", "1599360473\ntest-secret"));
}

TEST(FeishuNotifierTest, SignedInteractiveCard) {
  auto notifier =
      Must(MakeFeishuNotifier({"https://open.feishu.cn/open-apis/bot/v2/hook/abc", "s3cret"}));
  Notification n = SamplePage();
  n.mentions = {"ou_1234", "all"};
  n.excerpts.push_back("<at id=all></at> spam");
  const Result<OutgoingRequest> request = notifier->Render(n, kNowMs);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->url, "https://open.feishu.cn/open-apis/bot/v2/hook/abc");
  const json body = json::parse(request->body);
  EXPECT_EQ(body["timestamp"], std::to_string(kNowMs / 1000));  // seconds, as a string
  EXPECT_EQ(body["sign"], IndependentHmacBase64(std::to_string(kNowMs / 1000) + "\ns3cret", ""));
  EXPECT_EQ(body["msg_type"], "interactive");
  EXPECT_EQ(body["card"]["header"]["template"], "orange");
  EXPECT_EQ(body["card"]["header"]["title"]["content"], n.title);
  const std::string visible = AllStrings(body["card"]);
  for (const std::string& needle :
       {n.incident_url, n.ack_url, std::string("legal"), std::string("17"), Defang(n.excerpts[0]),
        std::string("<at id=ou_1234></at>")})
    EXPECT_NE(visible.find(needle), std::string::npos) << needle;
  // Exactly one "@all": the configured one, not the one in the post text.
  EXPECT_EQ(visible.find("<at id=all></at>"), visible.rfind("<at id=all></at>"));
  EXPECT_NE(visible.find("＜at id=all＞"), std::string::npos);
}

TEST(FeishuNotifierTest, BodyStaysUnderTheLimitAndRateLimitIsRetryable) {
  auto notifier =
      Must(MakeFeishuNotifier({"https://open.feishu.cn/open-apis/bot/v2/hook/abc", "s"}));
  Notification n = SamplePage();
  n.excerpts = ManyExcerpts(500);
  const std::string body = notifier->Render(n, kNowMs)->body;
  EXPECT_LE(body.size(), 20u * 1024);
  const size_t shown = CountShown(body, 500);
  EXPECT_GT(shown, 50u);
  EXPECT_NE(body.find(MoreLine(500 - shown)), std::string::npos);
  DeliveryOutcome sent;
  sent.status = 200;
  sent.body = R"({"code":9499,"msg":"too many request","data":{}})";
  EXPECT_EQ(notifier->Interpret(sent).delivery, Delivery::kRetryable);
  sent.body =
      R"({"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"})";
  EXPECT_EQ(notifier->Interpret(sent).delivery, Delivery::kPermanent);
  sent.body = R"({"StatusCode":0,"StatusMessage":"success"})";
  EXPECT_EQ(notifier->Interpret(sent).delivery, Delivery::kDelivered);
}

TEST(WeComNotifierTest, MarkdownWithInlineUseridMentions) {
  auto notifier =
      Must(MakeWeComNotifier({"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}));
  Notification n = SamplePage();
  n.mentions = {"zhangsan"};
  n.excerpts.push_back("<@lisi> wake up");
  const json body = json::parse(notifier->Render(n, kNowMs)->body);
  EXPECT_EQ(body["msgtype"], "markdown");
  const std::string content = body["markdown"]["content"];
  EXPECT_NE(content.find("<@zhangsan>"), std::string::npos);
  EXPECT_EQ(content.find("<@lisi>"), std::string::npos);  // post text cannot mention
  EXPECT_NE(content.find("<font color=\"warning\">high</font>"), std::string::npos);
  for (const std::string& needle :
       {n.incident_url, n.ack_url, std::string("legal"), std::string("Hits: 17")})
    EXPECT_NE(content.find(needle), std::string::npos) << needle;
}

TEST(WeComNotifierTest, MobilesAndAllSwitchToTextWithMentionLists) {
  auto notifier =
      Must(MakeWeComNotifier({"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}));
  Notification n = SamplePage();
  n.mentions = {"zhangsan", "13800001111", "all"};
  n.excerpts = ManyExcerpts(100);
  const json body = json::parse(notifier->Render(n, kNowMs)->body);
  EXPECT_EQ(body["msgtype"], "text");
  EXPECT_EQ(body["text"]["mentioned_list"], json::array({"zhangsan", "@all"}));
  EXPECT_EQ(body["text"]["mentioned_mobile_list"], json::array({"13800001111"}));
  const std::string content = body["text"]["content"];
  EXPECT_LE(content.size(), 2048u);
  const size_t shown = CountShown(content, 100);
  EXPECT_NE(content.find(MoreLine(100 - shown)), std::string::npos);
  EXPECT_NE(content.find(n.incident_url), std::string::npos);
}

TEST(WeComNotifierTest, MarkdownLimitAndRateLimitErrcode) {
  auto notifier =
      Must(MakeWeComNotifier({"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}));
  Notification n = SamplePage();
  n.excerpts = ManyExcerpts(300);
  const std::string content = json::parse(notifier->Render(n, kNowMs)->body)["markdown"]["content"];
  EXPECT_LE(content.size(), 4096u);
  EXPECT_NE(content.find(MoreLine(300 - CountShown(content, 300))), std::string::npos);
  DeliveryOutcome sent;
  sent.status = 200;
  sent.body = R"({"errcode":45009,"errmsg":"api freq out of limit"})";
  EXPECT_EQ(notifier->Interpret(sent).delivery, Delivery::kRetryable);
  sent.body = R"({"errcode":93000,"errmsg":"invalid webhook url"})";
  EXPECT_EQ(notifier->Interpret(sent).delivery, Delivery::kPermanent);
}

TEST(SlackNotifierTest, BlocksCarryFactsExcerptsLinksAndEscapedText) {
  auto notifier = Must(MakeSlackNotifier({"https://hooks.slack.com/services/T/B/X"}));
  Notification n = SamplePage();
  n.mentions = {"<@U024BE7LH>", "U999", "all"};
  n.excerpts.push_back("<!channel> & friends");
  const json body = json::parse(notifier->Render(n, kNowMs)->body);
  EXPECT_NE(body["text"].get<std::string>().find(n.title), std::string::npos);
  EXPECT_EQ(body["blocks"][0]["type"], "header");
  const std::string visible = AllStrings(body["blocks"]);
  for (const std::string& needle :
       {n.incident_url, n.ack_url, std::string("*Owner*\nlegal"), std::string("*Hits*\n17"),
        n.excerpts[0], std::string("<@U024BE7LH>"), std::string("<@U999>"),
        std::string("&lt;!channel&gt; &amp; friends")})
    EXPECT_NE(visible.find(needle), std::string::npos) << needle;
  // The only "<!channel>" is the configured mention.
  EXPECT_EQ(visible.find("<!channel>"), visible.rfind("<!channel>"));
}

TEST(SlackNotifierTest, ExcerptBlockStaysWithin3000Characters) {
  auto notifier = Must(MakeSlackNotifier({"https://hooks.slack.com/services/T/B/X"}));
  Notification n = SamplePage();
  n.excerpts = ManyExcerpts(200);
  const json body = json::parse(notifier->Render(n, kNowMs)->body);
  bool found = false;
  for (const json& block : body["blocks"]) {
    if (!block.contains("text") || block["type"] != "section") continue;
    const std::string text = block["text"]["text"];
    EXPECT_LE(Utf8Length(text), 3000u);
    if (text.find("excerpt #0 ") == std::string::npos) continue;
    found = true;
    const size_t shown = CountShown(text, 200);
    EXPECT_GT(shown, 10u);
    EXPECT_NE(text.find(MoreLine(200 - shown)), std::string::npos);
  }
  EXPECT_TRUE(found);
}

TEST(ChatNotifierConfigTest, FactoriesRejectBadConfig) {
  EXPECT_FALSE(MakeDingTalkNotifier({"oapi.dingtalk.com/robot/send", "", 4096}).ok());
  EXPECT_FALSE(MakeFeishuNotifier({"https://open.feishu.cn/x", "", 100}).ok());
  EXPECT_FALSE(MakeWeComNotifier({"", 4096, 2048}).ok());
  EXPECT_FALSE(MakeSlackNotifier({"https://hooks.slack.com/x", 5000}).ok());
  auto notifier = Must(MakeSlackNotifier({"https://hooks.slack.com/x"}));
  Notification n = SamplePage();
  n.kind = "nonsense";
  EXPECT_FALSE(notifier->Render(n, kNowMs).ok());
}

}  // namespace
}  // namespace vigil::alerts
