// The shared pieces of the notifiers: signing primitives against published vectors, size
// fitting, UTF-8 truncation, time formats, config checks, and reading robots' replies.
#include <gtest/gtest.h>

#include "alerts/notification_format.h"
#include "alerts/signing.h"

namespace vigil::alerts {
namespace {

TEST(NotifierSigningTest, HmacSha256MatchesRfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(HexLower(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // HMAC over an empty message (Feishu's case) is well defined: RFC 2104 with "".
  EXPECT_EQ(HmacSha256("key", "").size(), 32u);
}

TEST(NotifierSigningTest, Base64MatchesRfc4648AndRoundTrips) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), plain);
  }
  EXPECT_EQ(Base64Decode("Zm9"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm9v!A=="), std::nullopt);
}

TEST(NotifierSigningTest, PercentEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentEncode("a+b/c=d e"), "a%2Bb%2Fc%3Dd%20e");
  EXPECT_EQ(PercentEncode("拾"), "%E6%8B%BE");
}

TEST(NotifierSigningTest, ReproducesDingTalksPublishedSampleSignature) {
  // DingTalk's documented sample (FAQ on signature calculation, also used by the Ruby
  // dingtalk-sdk's tests): appSecret "testappSecret", timestamp 1546084445901, HMAC-SHA256
  // over the timestamp, base64, URL-encoded.
  EXPECT_EQ(PercentEncode(Base64(HmacSha256("testappSecret", "1546084445901"))),
            "HCbG3xNE3vzhO%2Bu7qCUL1jS5hsu2n5r2cFhnTrtyDAE%3D");
}

TEST(NotifierFormatTest, FitCountFindsTheLargestPrefixThatFits) {
  // Items of 10 bytes, a "more" line of 5: size(k) = 10k + (k < n ? 5 : 0).
  auto size_of = [](size_t n) { return [n](size_t k) { return 10 * k + (k < n ? 5 : 0); }; };
  EXPECT_EQ(FitCount(0, 100, size_of(0)), 0u);
  EXPECT_EQ(FitCount(5, 50, size_of(5)), 5u);          // all fit, no "more" line needed
  EXPECT_EQ(FitCount(6, 50, size_of(6)), 4u);          // 45 fits, 55 does not
  EXPECT_EQ(FitCount(6, 4, size_of(6)), 0u);           // even none fits
  EXPECT_EQ(FitCount(100, 1000, size_of(100)), 100u);  // exactly at the limit
  EXPECT_EQ(FitCount(100, 999, size_of(100)), 99u);
}

TEST(NotifierFormatTest, TruncateUtf8CutsBetweenCharacters) {
  EXPECT_EQ(TruncateUtf8("short", 10), "short");
  const std::string cjk = "拾光吧拾光吧";         // 3 bytes each
  const std::string cut = TruncateUtf8(cjk, 10);  // 7 bytes of text + "…" (3): two characters fit
  EXPECT_EQ(cut, "拾光\u2026");
  EXPECT_LE(cut.size(), 10u);
  EXPECT_EQ(Utf8Length(cjk), 6u);
  EXPECT_EQ(MoreLine(3), "\u2026and 3 more");
}

TEST(NotifierFormatTest, ExcerptLinesAreSingleLinesAndDefanged) {
  EXPECT_EQ(ExcerptLine("a\nb\r\tc"), "a b  c");
  EXPECT_EQ(Defang("<@all> <at id=all></at>"), "＜@all＞ ＜at id=all＞＜/at＞");
  EXPECT_LE(ExcerptLine(std::string(5000, 'x')).size(), kMaxExcerptBytes);
}

TEST(NotifierFormatTest, TimeFormats) {
  EXPECT_EQ(Rfc3339(1'893'456'000'123), "2030-01-01T00:00:00.123Z");
  EXPECT_EQ(Rfc5322Date(1'893'456'000'123), "Tue, 01 Jan 2030 00:00:00 +0000");
}

TEST(NotifierFormatTest, HeadlineNamesTheKind) {
  Notification n;
  n.kind = "page";
  n.severity = "high";
  n.category = "complaint";
  n.rule_id = "complaint.refund_delay";
  n.community = "c1";
  EXPECT_EQ(Headline(n), "[HIGH] complaint: complaint.refund_delay in c1");
  n.title = "T";
  n.kind = "resolve";
  EXPECT_EQ(Headline(n), "Resolved: T");
  n.kind = "digest";
  n.digest_count = 7;
  EXPECT_EQ(Headline(n), "Digest of 7 pages: T");
  n.kind = "bogus";
  EXPECT_FALSE(CheckKind(n).ok());
}

TEST(NotifierFormatTest, ConfigChecks) {
  EXPECT_TRUE(CheckHttpUrl("https://oapi.dingtalk.com/robot/send?access_token=x", "u").ok());
  EXPECT_FALSE(CheckHttpUrl("ftp://x", "u").ok());
  EXPECT_FALSE(CheckHttpUrl("https:///path", "u").ok());
  EXPECT_FALSE(CheckHttpUrl("https://x/a b", "u").ok());
  EXPECT_TRUE(CheckHeaders({{"Authorization", "Bearer t"}}, "h").ok());
  EXPECT_FALSE(CheckHeaders({{"X-Evil", "a\r\nX-Injected: 1"}}, "h").ok());
  EXPECT_FALSE(CheckHeaders({{"Bad Name", "v"}}, "h").ok());
  EXPECT_TRUE(IsMobile("13800001111"));
  EXPECT_TRUE(IsMobile("+8613800001111"));
  EXPECT_FALSE(IsMobile("ou_7d8a6e6df7621556ce0d21922b676706ccs"));
}

DeliveryOutcome Reply(int status, std::string body) {
  DeliveryOutcome sent;
  sent.status = status;
  sent.body = std::move(body);
  sent.delivery = status >= 200 && status < 300      ? Delivery::kDelivered
                  : (status >= 500 || status == 429) ? Delivery::kRetryable
                                                     : Delivery::kPermanent;
  return sent;
}

TEST(NotifierFormatTest, RobotReplies) {
  const std::vector<std::string> fields = {"errcode"};
  const std::vector<int64_t> retryable = {130101};
  auto classify = [&](int status, std::string body) {
    return InterpretErrorCode(Reply(status, std::move(body)), fields, retryable).delivery;
  };
  EXPECT_EQ(classify(200, R"({"errcode":0,"errmsg":"ok"})"), Delivery::kDelivered);
  EXPECT_EQ(classify(200, R"({"errcode":130101,"errmsg":"send too fast"})"), Delivery::kRetryable);
  EXPECT_EQ(classify(200, R"({"errcode":310000,"errmsg":"sign not match"})"), Delivery::kPermanent);
  EXPECT_EQ(classify(200, "<html>proxy login</html>"), Delivery::kRetryable);  // no code: not proof
  EXPECT_EQ(classify(502, "bad gateway"), Delivery::kRetryable);
  EXPECT_EQ(classify(500, R"({"errcode":12345})"), Delivery::kRetryable);  // 5xx stays retryable
  EXPECT_EQ(classify(400, R"({"errcode":130101})"), Delivery::kRetryable);
  const DeliveryOutcome detailed = InterpretErrorCode(
      Reply(200, R"({"errcode":310000,"errmsg":"sign not match"})"), fields, retryable);
  EXPECT_EQ(detailed.detail, "HTTP 200, code 310000: sign not match");
  DeliveryOutcome transport;  // no reply at all
  transport.detail = "timeout";
  EXPECT_EQ(InterpretErrorCode(transport, fields, retryable).delivery, Delivery::kRetryable);
}

}  // namespace
}  // namespace vigil::alerts
