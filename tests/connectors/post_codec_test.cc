#include <gtest/gtest.h>

#include "connectors/hit_codec.h"
#include "connectors/post.h"

namespace vigil::connectors {
namespace {

struct BadCase {
  std::string json;
  InvalidReason reason;
  std::string detail;
};

TEST(PostDecoderTest, DecodesEveryFieldOfThePostSchema) {
  PostDecoder decoder;
  PostView post;
  PostError error;
  ASSERT_TRUE(decoder.Decode(
      R"({"id":"p1","body":"退款没到账","platform":"weibo","community":"acme","author":{"id":"u9","name":"小王"},
          "title":"求助","url":"https://example.com/p1","lang":"zh","created_at":"2026-11-22T10:00:00+08:00",
          "metrics":{"likes":3,"shares":1,"replies":2,"followers":1000},"tags":["refund","help"],"extra":{"kept":true}})",
      post, error))
      << error.detail;
  EXPECT_EQ(post.id, "p1");
  EXPECT_EQ(post.body, "退款没到账");
  EXPECT_EQ(post.author_name, "小王");
  EXPECT_EQ(post.author_id, "u9");
  EXPECT_EQ(post.followers, 1000);
  ASSERT_EQ(post.tags.size(), 2u);
  std::vector<rules::FieldText> fields;
  std::string tags;
  post.MatchFields(fields, tags);
  ASSERT_EQ(fields.size(), 7u);
  EXPECT_EQ(fields.back().text, "refund\nhelp");
}

TEST(PostDecoderTest, NumericIdsAreAccepted) {
  PostDecoder decoder;
  PostView post;
  PostError error;
  ASSERT_TRUE(decoder.Decode(R"({"id":12345,"body":"x"})", post, error));
  EXPECT_EQ(post.id, "12345");
}

TEST(PostDecoderTest, RejectsBadPostsWithAReasonAndNoCrash) {
  const std::vector<BadCase> cases = {
      {"not json", InvalidReason::kNotJson, ""},
      {"{\"id\":\"a\",\"body\":\"\xff\"}", InvalidReason::kNotUtf8, "not valid UTF-8"},
      {"[1,2]", InvalidReason::kNotObject, "a post must be a JSON object"},
      {R"({"body":"x"})", InvalidReason::kMissingId, "no 'id'"},
      {R"({"id":"","body":"x"})", InvalidReason::kMissingId, "no 'id'"},
      {R"({"id":"a"})", InvalidReason::kMissingBody, "no 'body'"},
      {R"({"id":"a","body":5})", InvalidReason::kMissingBody, "'body' must be a string"},
      {R"({"id":"a","body":"x","tags":"one"})", InvalidReason::kBadField, "'tags' must be an array of strings"},
      {R"({"id":"a","body":"x","created_at":"yesterday"})", InvalidReason::kBadField,
       "'created_at' is not an RFC 3339 timestamp"},
      {R"({"id":"a","body":"x","metrics":{"likes":-1}})", InvalidReason::kBadField, "'metrics.likes' must not be negative"},
      {std::string(20, '[') + std::string(20, ']'), InvalidReason::kTooDeep, "nested deeper than 16"},
  };
  PostDecoder decoder;
  for (const BadCase& c : cases) {
    PostView post;
    PostError error;
    ASSERT_FALSE(decoder.Decode(c.json, post, error)) << c.json;
    EXPECT_EQ(InvalidReasonName(error.reason), InvalidReasonName(c.reason)) << c.json;
    if (!c.detail.empty()) {
      EXPECT_EQ(error.detail, c.detail) << c.json;
    }
  }
  PostView post;
  PostError error;
  PostDecoder small({.max_bytes = 64, .max_depth = 16});
  ASSERT_FALSE(small.Decode(R"({"id":"a","body":")" + std::string(100, 'x') + "\"}", post, error));
  EXPECT_EQ(error.reason, InvalidReason::kTooLarge);
}

TEST(HitCodecTest, HitIdIsDeterministicAndIncidentKeyFollowsGroupBy) {
  EXPECT_EQ(HitId("p1", "r1"), HitId("p1", "r1"));
  EXPECT_NE(HitId("p1", "r1"), HitId("p1", "r2"));
  EXPECT_NE(HitId("p1r", "1"), HitId("p1", "r1"));
  EXPECT_EQ(HitId("p1", "r1").size(), 32u);
  rules::RuleDef rule;
  rule.id = "complaint.refund";
  rule.incident.group_by = {"community", "platform"};
  PostView post;
  post.community = "acme";
  post.platform = "weibo";
  EXPECT_EQ(IncidentKey(post, rule), "complaint.refund|community=acme|platform=weibo");
}

TEST(Rfc3339Test, AcceptsAndRejects) {
  EXPECT_TRUE(IsRfc3339("2026-11-22T10:00:00Z"));
  EXPECT_TRUE(IsRfc3339("2026-11-22T10:00:00.123+08:00"));
  EXPECT_FALSE(IsRfc3339("2026-13-22T10:00:00Z"));
  EXPECT_FALSE(IsRfc3339("2026-11-22 10:00"));
  EXPECT_FALSE(IsRfc3339(""));
}

}  // namespace
}  // namespace vigil::connectors
