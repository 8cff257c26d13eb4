// The recorded bodies under tests/data/discourse/ follow Discourse's webhook payloads:
// {"post": <WebHookPostSerializer output>} as built by Jobs::EmitWebHookEvent, with the
// field set of real deliveries quoted in public consumers (fedora-infra's
// discourse2fedmsg tests, a Weaviate forum post, discourse-rs examples). post_edited.json
// has the older shape with actions_summary and without category_slug; the others the
// current one. Names, ids and text are invented.
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "connectors/discourse.h"
#include "connectors/hit_codec.h"
#include "connectors/post.h"

namespace vigil::connectors {
namespace {

constexpr std::string_view kSecret = "s3cr3t-webhook-key";
constexpr std::string_view kInstance = "https://community.acmepay.example";

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/tests/data/discourse/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// What Discourse puts in X-Discourse-Event-Signature.
std::string Sign(std::string_view secret, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// A signed delivery of `body` for `event`, translated.
Result<DiscourseResult> Deliver(std::string_view event, const std::string& body,
                                std::string_view community_override = {},
                                std::string_view instance = kInstance) {
  const std::string signature = Sign(kSecret, body);
  return TranslateDiscourseWebhook({event, instance, signature, body}, kSecret, community_override);
}

// Decodes the produced post with the pipeline's own decoder.
class DiscourseTest : public ::testing::Test {
 protected:
  PostView Decode(const Result<DiscourseResult>& result) {
    EXPECT_TRUE(result.ok()) << result.error().message;
    if (!result.ok()) return {};
    EXPECT_EQ(result->outcome, DiscourseOutcome::kPost) << result->reason;
    PostView post;
    PostError error;
    EXPECT_TRUE(decoder_.Decode(result->post_json, post, error)) << error.detail << "\n"
                                                                 << result->post_json;
    EXPECT_EQ(post.id, result->post_id);
    return post;
  }

  PostDecoder decoder_;
};

TEST_F(DiscourseTest, PostCreatedMapsEveryField) {
  const auto result = Deliver("post_created", ReadData("post_created.json"));
  const PostView post = Decode(result);
  EXPECT_EQ(post.id, "discourse:community.acmepay.example:48213");
  EXPECT_EQ(post.body,
            "I asked for a refund on March 2nd and it still has not arrived. Support keeps closing "
            "my ticket & "
            "nobody answers.\n\nIs anyone else seeing this?");
  EXPECT_EQ(post.title, "Refund still not received after two weeks");
  EXPECT_EQ(post.platform, "discourse");
  EXPECT_EQ(post.community, "billing");
  EXPECT_EQ(post.author_id, "1187");
  EXPECT_EQ(post.author_name, "dwhitfield");
  EXPECT_EQ(post.url,
            "https://community.acmepay.example/t/refund-still-not-received-after-two-weeks/9172/4");
  EXPECT_EQ(post.created_at, "2026-03-14T09:26:41.518Z");
  EXPECT_EQ(post.lang, "");
  EXPECT_EQ(post.replies, 2);
  EXPECT_EQ(post.likes, 0);
  EXPECT_EQ(post.shares, 0);
  EXPECT_EQ(post.followers, 0);
  EXPECT_TRUE(post.tags.empty());
  // No actions_summary in current payloads: likes are unknown, not zero.
  EXPECT_EQ(result->post_json.find("\"likes\""), std::string::npos);
}

TEST_F(DiscourseTest, PostEditedTakesLikesFromActionsSummaryAndFallsBackToTheCategoryId) {
  const PostView post = Decode(Deliver("post_edited", ReadData("post_edited.json")));
  EXPECT_EQ(post.id, "discourse:community.acmepay.example:48190");
  EXPECT_EQ(post.title, "Charged twice for one order");
  EXPECT_EQ(post.community, "category-5");
  EXPECT_EQ(post.author_id, "904");
  EXPECT_EQ(post.author_name, "k.moreau");
  EXPECT_EQ(post.url, "https://community.acmepay.example/t/charged-twice-for-one-order/9160/1");
  EXPECT_EQ(post.created_at, "2026-03-13T17:02:09.044Z");  // the post's, not the edit's
  EXPECT_EQ(post.likes, 7);
  EXPECT_EQ(post.replies, 5);
}

TEST_F(DiscourseTest, RedeliveryAndEditsKeepThePostIdAndSoTheHitId) {
  const std::string body = ReadData("post_created.json");
  const auto first = Deliver("post_created", body);
  const auto again = Deliver("post_created", body);
  const auto edited = Deliver("post_edited", Replace(body, "\"version\": 1", "\"version\": 2"));
  ASSERT_TRUE(first.ok() && again.ok() && edited.ok());
  EXPECT_EQ(first->post_json, again->post_json);
  EXPECT_EQ(first->post_id, edited->post_id);
  EXPECT_EQ(HitId(first->post_id, "complaint.refund_delay"),
            HitId(edited->post_id, "complaint.refund_delay"));
  // The same post id on another forum is another post.
  const auto other = Deliver("post_created", body, {}, "https://forum.other.example");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(first->post_id, other->post_id);
}

TEST_F(DiscourseTest, ChineseTextPassesThroughUnchanged) {
  const PostView post =
      Decode(Deliver("post_created", ReadData("chinese.json"), {}, "https://bbs.acmepay.example"));
  EXPECT_EQ(post.id, "discourse:bbs.acmepay.example:70514");
  EXPECT_EQ(post.body, "退款一个月了还没到账，客服一直不处理。再不解决我就去消协投诉！");
  EXPECT_EQ(post.title, "退款一个月还没到账");
  EXPECT_EQ(post.author_name, "wangxm");
  EXPECT_EQ(post.author_id, "268");
  EXPECT_EQ(post.community, "shouhou");
  EXPECT_EQ(post.url, "https://bbs.acmepay.example/t/topic/3307/1");
  std::vector<rules::FieldText> fields;
  std::string tags;
  post.MatchFields(fields, tags);
  ASSERT_GE(fields.size(), 2u);
  EXPECT_EQ(fields[0].field, rules::Field::kTitle);
  EXPECT_EQ(fields[1].text, post.body);
}

TEST_F(DiscourseTest, CookedOnlyIsReducedToText) {
  const PostView post = Decode(Deliver("post_created", ReadData("cooked_only.json")));
  EXPECT_EQ(post.body,
            "Same here \u2013 my card ending in 4417 was charged & never refunded.\n"
            "Support said \"wait 5\u20137 days\" <again>.\n"
            "dwhitfield:\n"
            "Is anyone else seeing this?\n"
            "Ticket #88120\n"
            "Ticket #88342\n"
            "退款 了吗？");
  EXPECT_EQ(post.author_id, "1203");
  EXPECT_EQ(post.replies, 0);
}

TEST_F(DiscourseTest, CommunityOverrideReplacesTheCategory) {
  EXPECT_EQ(Decode(Deliver("post_created", ReadData("post_created.json"), "acme-forum")).community,
            "acme-forum");
}

TEST_F(DiscourseTest, OptionalFieldsMayBeAbsent) {
  const auto result =
      Deliver("post_created", R"({"post":{"id":7,"username":"guest","raw":"hello"}})");
  const PostView post = Decode(result);
  EXPECT_EQ(post.id, "discourse:community.acmepay.example:7");
  EXPECT_EQ(post.body, "hello");
  EXPECT_EQ(post.author_id, "guest");  // no user_id: the username stands in
  EXPECT_EQ(post.author_name, "guest");
  EXPECT_EQ(post.title, "");
  EXPECT_EQ(post.community, "");
  EXPECT_EQ(post.url, "");
  EXPECT_EQ(post.created_at, "");
  EXPECT_EQ(result->post_json,
            R"({"author":{"id":"guest","name":"guest"},"body":"hello",)"
            R"("id":"discourse:community.acmepay.example:7","platform":"discourse"})");
}

TEST_F(DiscourseTest, UrlsHonourSubfolderInstancesAndMissingSlugs) {
  const std::string body = R"({"post":{"id":9,"raw":"x","topic_id":31,"post_number":2}})";
  const PostView post =
      Decode(Deliver("post_created", body, {}, "https://Example.COM:8443/forum/"));
  EXPECT_EQ(post.id, "discourse:example.com:8443:9");
  EXPECT_EQ(post.url, "https://Example.COM:8443/forum/t/31/2");
}

TEST_F(DiscourseTest, TagsAreTakenWhenPresentAsNamesOrObjects) {
  const PostView post = Decode(Deliver(
      "post_created",
      R"({"post":{"id":8,"raw":"x","tags":["退款",{"id":3,"name":"billing","slug":"billing"}]}})"));
  ASSERT_EQ(post.tags.size(), 2u);
  EXPECT_EQ(post.tags[0], "退款");
  EXPECT_EQ(post.tags[1], "billing");
}

TEST_F(DiscourseTest, NonPostsAndPostsNotForMonitoringAreIgnoredWithAReason) {
  struct Case {
    std::string event;
    std::string body;
    std::string reason;
  };
  const std::string created = ReadData("post_created.json");
  const std::vector<Case> cases = {
      {"ping", ReadData("ping.json"), "ping"},
      {"", ReadData("ping.json"),
       "ping"},  // older Discourse: only X-Discourse-Event-Type says ping
      {"topic_created", R"({"topic":{"id":9172}})", "topic_created"},
      {"post_destroyed", created, "post_destroyed"},
      {"Not An Event!", created, "unknown_event"},
      {"post_created", ReadData("private_message.json"), "private_message"},
      {"post_created", Replace(created, "\"post_type\": 1", "\"post_type\": 4"), "whisper"},
      {"post_created", Replace(created, "\"post_type\": 1", "\"post_type\": 3"), "small_action"},
      {"post_edited",
       Replace(created, "\"deleted_at\": null", "\"deleted_at\": \"2026-03-14T11:00:00.000Z\""),
       "deleted_post"},
      {"post_edited", Replace(created, "\"user_deleted\": false", "\"user_deleted\": true"),
       "deleted_post"},
  };
  for (const Case& c : cases) {
    const auto result = Deliver(c.event, c.body);
    ASSERT_TRUE(result.ok()) << c.event << ": " << result.error().message;
    EXPECT_EQ(result->outcome, DiscourseOutcome::kIgnored) << c.event;
    EXPECT_EQ(result->reason, c.reason) << c.event;
    EXPECT_TRUE(result->post_json.empty());
  }
}

TEST_F(DiscourseTest, SignatureIsVerified) {
  const std::string body = ReadData("post_created.json");
  const std::string good = Sign(kSecret, body);
  auto translate = [&](std::string_view signature, std::string_view payload,
                       std::string_view secret = kSecret) {
    return TranslateDiscourseWebhook({"post_created", kInstance, signature, payload}, secret);
  };
  EXPECT_TRUE(translate(good, body).ok());
  std::string upper = good;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_TRUE(translate(upper, body).ok());

  struct Case {
    std::string signature;
    std::string body;
    std::string message;
  };
  std::string altered = body;
  altered[altered.find("48213")] = '5';
  const std::vector<Case> cases = {
      {"", body, "X-Discourse-Event-Signature: missing"},
      {good.substr(7), body, "X-Discourse-Event-Signature: expected sha256=<64 hex digits>"},
      {"sha1=" + good.substr(7), body,
       "X-Discourse-Event-Signature: expected sha256=<64 hex digits>"},
      {good.substr(0, good.size() - 2), body,
       "X-Discourse-Event-Signature: expected sha256=<64 hex digits>"},
      {good.substr(0, good.size() - 1) + "g", body,
       "X-Discourse-Event-Signature: expected sha256=<64 hex digits>"},
      {Sign("another-secret", body), body,
       "X-Discourse-Event-Signature: does not match the body (wrong secret or altered body)"},
      {good, altered,
       "X-Discourse-Event-Signature: does not match the body (wrong secret or altered body)"},
  };
  for (const Case& c : cases) {
    const auto result = translate(c.signature, c.body);
    ASSERT_FALSE(result.ok()) << c.signature;
    EXPECT_EQ(result.error().message, c.message);
  }
  // Without a secret nothing is checked (local testing only).
  EXPECT_TRUE(translate("garbage", altered, "").ok());
}

TEST_F(DiscourseTest, MalformedDeliveriesAreErrorsNamingTheField) {
  struct Case {
    std::string event;
    std::string instance;
    std::string body;
    std::string message;
  };
  const std::string host(kInstance);
  const std::vector<Case> cases = {
      {"post_created", host, "{\"post\":", "body: not valid JSON"},
      {"post_created", host, "{\"post\":{\"id\":1,\"raw\":\"\xff\"}}", "body: not valid JSON"},
      {"post_created", host, "[1]", "body: expected an object with a 'post' object"},
      {"post_created", host, R"({"post":[]})", "body: expected an object with a 'post' object"},
      {"post_created", host, R"({"topic":{}})", "body: expected an object with a 'post' object"},
      {"", host, R"({"post":{"id":1,"raw":"x"}})", "X-Discourse-Event: missing"},
      {"post_created", "", R"({"post":{"id":1,"raw":"x"}})", "X-Discourse-Instance: missing"},
      {"post_created", "community.acmepay.example", R"({"post":{"id":1,"raw":"x"}})",
       "X-Discourse-Instance: expected an http(s) URL such as https://forum.example.com"},
      {"post_created", "https://bad host/", R"({"post":{"id":1,"raw":"x"}})",
       "X-Discourse-Instance: expected an http(s) URL such as https://forum.example.com"},
      {"post_created", host, R"({"post":{"raw":"x"}})", "post.id: missing"},
      {"post_created", host, R"({"post":{"id":"48213","raw":"x"}})",
       "post.id: expected an integer"},
      {"post_created", host, R"({"post":{"id":1.5,"raw":"x"}})", "post.id: expected an integer"},
      {"post_created", host, R"({"post":{"id":0,"raw":"x"}})",
       "post.id: expected a positive integer"},
      {"post_created", host, R"({"post":{"id":1}})", "post: neither 'raw' nor 'cooked' is present"},
      {"post_created", host, R"({"post":{"id":1,"raw":5}})", "post.raw: expected a string"},
      {"post_created", host, R"({"post":{"id":1,"raw":"x","post_type":"regular"}})",
       "post.post_type: expected an integer"},
      {"post_created", host, R"({"post":{"id":1,"raw":"x","user_deleted":"no"}})",
       "post.user_deleted: expected true or false"},
      {"post_created", host, R"({"post":{"id":1,"raw":"x","topic_id":"9"}})",
       "post.topic_id: expected an integer"},
      {"post_created", host, R"({"post":{"id":1,"raw":"x","reply_count":-1}})",
       "post.reply_count: expected a non-negative integer"},
      {"post_created", host, R"({"post":{"id":1,"raw":"x","actions_summary":{"2":3}}})",
       "post.actions_summary: expected an array of {id, count} objects"},
      {"post_created", host,
       R"({"post":{"id":1,"raw":"x","actions_summary":[{"id":2,"count":"3"}]}})",
       "post.actions_summary: expected an array of {id, count} objects"},
      {"post_created", host, R"({"post":{"id":1,"raw":"x","tags":"billing"}})",
       "post.tags: expected an array of tag names"},
      {"post_created", host, R"({"post":{"id":1,"raw":"x","tags":[7]}})",
       "post.tags: expected an array of tag names"},
      {"post_created", host, R"({"post":{"id":1,"raw":"leak me","created_at":"leak me"}})",
       "post.created_at: expected an RFC 3339 timestamp"},
      {"post_created", host, std::string(5 << 20, ' '),
       "body: 5242880 bytes, more than the limit of 4194304"},
  };
  for (const Case& c : cases) {
    const std::string signature = Sign(kSecret, c.body);
    const auto result =
        TranslateDiscourseWebhook({c.event, c.instance, signature, c.body}, kSecret);
    ASSERT_FALSE(result.ok()) << c.message;
    EXPECT_EQ(result.error().message.substr(0, c.message.size()), c.message);
    EXPECT_EQ(result.error().message.find("leak me"), std::string::npos);
  }
}

}  // namespace
}  // namespace vigil::connectors
