// Matcher semantics: all/any/unless/near, fields, validators, masking, spans.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/rules_fixture.h"

namespace vigil::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using vigil::testing::CompileYaml;
using vigil::testing::FiredRules;

constexpr char kRefundRules[] = R"yaml(lists:
  refund: [退款, 退钱, refund]
  delay:  [没到账, 石沉大海, "re:拖了\\d+(天|个?月)"]
rules:
  - id: refund.delay
    category: complaint
    severity: medium
    owner: customer_service
    when:
      all: [$refund, $delay]
      near: 10
      unless: [已到账, 已解决]
  - id: refund.any
    category: complaint
    severity: low
    owner: customer_service
    fields: [title]
    when: {any: [$refund]}
)yaml";

TEST(MatcherTest, AllNearAndUnless) {
  auto set = CompileYaml(kRefundRules);
  ASSERT_NE(set, nullptr);
  EXPECT_THAT(FiredRules(*set, "退款一个月了还没到账"), ElementsAre("refund.delay"));
  EXPECT_THAT(FiredRules(*set, "退款拖了3个月"), ElementsAre("refund.delay"));
  // Too far apart: 11 characters between the parts.
  EXPECT_THAT(FiredRules(*set, "退款一二三四五六七八九十甲没到账"), IsEmpty());
  EXPECT_THAT(FiredRules(*set, "退款一二三四五六七八九十没到账"), ElementsAre("refund.delay"));
  EXPECT_THAT(FiredRules(*set, "退款已到账，之前没到账"), IsEmpty());
  EXPECT_THAT(FiredRules(*set, "没到账"), IsEmpty());
}

TEST(MatcherTest, NormalisationDefeatsEvasion) {
  auto set = CompileYaml(kRefundRules);
  ASSERT_NE(set, nullptr);
  EXPECT_THAT(FiredRules(*set, "退 款 还是没 到 账"), ElementsAre("refund.delay"));
  EXPECT_THAT(FiredRules(*set, "退-款石沉大海"), ElementsAre("refund.delay"));
  EXPECT_THAT(FiredRules(*set, "退\u200b款石沉大海"), ElementsAre("refund.delay"));
  EXPECT_THAT(FiredRules(*set, "body", "ＲＥＦＵＮＤ please"), ElementsAre("refund.any"));
  EXPECT_THAT(FiredRules(*set, "REFUND in body only"), IsEmpty());  // refund.any reads the title
}

TEST(MatcherTest, SpansReferToTheOriginalText) {
  auto set = CompileYaml(kRefundRules);
  ASSERT_NE(set, nullptr);
  const std::string body = "啊 退 款 拖了12天";
  std::vector<FieldText> fields = {{Field::kBody, body}};
  MatchScratch scratch;
  MatchResult result;
  ASSERT_TRUE(MatchPost(*set, fields, scratch, result).ok());
  ASSERT_EQ(result.hits.size(), 1u);
  const Hit& hit = result.hits[0];
  ASSERT_EQ(hit.spans.size(), 2u);
  EXPECT_EQ(body.substr(hit.spans[0].begin, hit.spans[0].end - hit.spans[0].begin), "退 款");
  EXPECT_EQ(body.substr(hit.spans[1].begin, hit.spans[1].end - hit.spans[1].begin), "拖了12天");
  EXPECT_EQ(hit.excerpt, "啊 退 款 拖了12天");
}

TEST(MatcherTest, AcrossFieldsWithoutNearButNotWithNear) {
  auto set = CompileYaml(R"(rules:
  - {id: loose, category: complaint, severity: low, owner: legal, when: {all: [退款, 没到账]}}
  - {id: tight, category: complaint, severity: low, owner: legal, when: {all: [退款, 没到账], near: 50}}
)", false);
  ASSERT_NE(set, nullptr);
  EXPECT_THAT(FiredRules(*set, "一直没到账", "退款问题"), ElementsAre("loose"));
  EXPECT_THAT(FiredRules(*set, "退款一直没到账"), ElementsAre("loose", "tight"));
}

TEST(MatcherTest, ValidatorFiltersCandidatesAndMaskHidesValues) {
  auto set = CompileYaml(R"(rules:
  - id: privacy.id
    category: privacy_leak
    severity: high
    owner: legal
    mask: true
    when: {any: ["re:\\b(\\d{17}[\\dx])\\b"], validate: cn_resident_id}
  - id: complaint.leak
    category: complaint
    severity: low
    owner: customer_service
    when: {any: [身份证]}
)", false);
  ASSERT_NE(set, nullptr);
  const std::string body = "我的身份证11010519491231002X被贴出来了";
  std::vector<FieldText> fields = {{Field::kBody, body}};
  MatchScratch scratch;
  MatchResult result;
  ASSERT_TRUE(MatchPost(*set, fields, scratch, result, {.explain = true}).ok());
  ASSERT_EQ(result.hits.size(), 2u);
  for (const Hit& hit : result.hits) {
    // Whichever rule made the excerpt, the number never shows in clear.
    EXPECT_THAT(hit.excerpt, Not(HasSubstr("11010519491231002X")));
    EXPECT_THAT(hit.excerpt, HasSubstr("110105********002X"));
    for (const std::string& line : hit.explanation) EXPECT_THAT(line, Not(HasSubstr("19491231")));
  }
  // An 18-digit order number with a wrong check digit is a candidate, not a hit.
  EXPECT_THAT(FiredRules(*set, "订单号110105194912310021"), IsEmpty());
  ASSERT_TRUE(MatchPost(*set, std::vector<FieldText>{{Field::kBody, "订单号110105194912310021"}}, scratch, result,
                        {.explain = true}).ok());
  ASSERT_EQ(result.rejections.size(), 1u);
  EXPECT_EQ(result.rejections[0].reason, "validator cn_resident_id rejected 1 candidate value(s) for 'any'");
}

TEST(MatcherTest, InvalidUtf8AndRepeatedFieldsAreErrorsNotCrashes) {
  auto set = CompileYaml(kRefundRules);
  ASSERT_NE(set, nullptr);
  MatchScratch scratch;
  MatchResult result;
  Status bad = MatchPost(*set, std::vector<FieldText>{{Field::kBody, "退款\xff\xfe"}}, scratch, result);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "field 'body' is not valid UTF-8");
  Status twice = MatchPost(*set, std::vector<FieldText>{{Field::kBody, "a"}, {Field::kBody, "b"}}, scratch, result);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().message, "field 'body' given twice");
  // The scratch is still good afterwards.
  EXPECT_THAT(FiredRules(*set, "退款没到账"), ElementsAre("refund.delay"));
}

TEST(MatcherTest, ScratchFollowsTheRuleSetItIsUsedWith) {
  auto first = CompileYaml(kRefundRules);
  auto second = CompileYaml("rules:\n  - {id: other, category: complaint, severity: low, owner: legal, when: {any: [骗子]}}\n", false);
  ASSERT_TRUE(first && second);
  MatchScratch scratch;
  MatchResult result;
  const std::vector<FieldText> fields = {{Field::kBody, "骗子公司，退款没到账"}};
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(MatchPost(*first, fields, scratch, result).ok());
    ASSERT_EQ(result.hits.size(), 1u);
    EXPECT_EQ(result.hits[0].rule->def.id, "refund.delay");
    ASSERT_TRUE(MatchPost(*second, fields, scratch, result).ok());
    ASSERT_EQ(result.hits.size(), 1u);
    EXPECT_EQ(result.hits[0].rule->def.id, "other");
  }
}

TEST(MatcherTest, SentimentRulesFireBelowTheThreshold) {
  auto set = CompileYaml(R"(rules:
  - id: sentiment.negative
    category: sentiment
    severity: low
    owner: community_coordinator
    when: {sentiment: {below: -0.5}}
  - id: sentiment.brand
    category: sentiment
    severity: medium
    owner: crisis_advisor
    when: {any: [客服], sentiment: {below: -0.3}}
)", false);
  ASSERT_NE(set, nullptr);
  EXPECT_THAT(FiredRules(*set, "客服太垃圾了，骗子公司，非常失望，再也不买了"),
              ElementsAre("sentiment.negative", "sentiment.brand"));
  EXPECT_THAT(FiredRules(*set, "客服态度非常好，物流很快，感谢"), IsEmpty());
  EXPECT_THAT(FiredRules(*set, "This is a terrible, awful scam. I hate it."), ElementsAre("sentiment.negative"));
}

TEST(MatcherTest, RegexHyperscanCannotRunIsConfirmedByRe2OnEveryPost) {
  rules::Diagnostics diagnostics;
  auto set = LoadRuleSet(std::vector<RuleSource>{{"t.yaml", "rules:\n  - {id: bytes, category: complaint, severity: low, owner: legal, when: {any: ['re:abc\\Cdef']}}\n"}},
                         {.check_examples = false}, diagnostics);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(diagnostics.warning_count(), 2);  // no examples; RE2 runs it on every post
  EXPECT_THAT(diagnostics.Sorted()[1].message, HasSubstr("Hyperscan cannot prefilter regex 'abc\\Cdef'"));
  EXPECT_EQ((*set)->stats().always_candidate_count, 1u);
  EXPECT_THAT(FiredRules(**set, "xx abcXdef"), ElementsAre("bytes"));
  EXPECT_THAT(FiredRules(**set, "xx abcdef"), IsEmpty());
}

TEST(MatcherTest, LiteralLessRegexesArePrefilteredByRe2Set) {
  auto set = CompileYaml(R"yaml(rules:
  - {id: digits, category: complaint, severity: low, owner: legal, when: {any: ['re:\b\d{6}\b']}}
  - {id: word, category: complaint, severity: low, owner: legal, when: {any: ['re:refund(ed)?']}}
)yaml", false);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->stats().re2_set_count, 1u);
  EXPECT_THAT(FiredRules(*set, "code 123456 refunded"), ElementsAre("digits", "word"));
  EXPECT_THAT(FiredRules(*set, "code 1234567"), IsEmpty());
}

TEST(MatcherTest, DisabledRulesAreListedButNeverFire) {
  auto set = CompileYaml("rules:\n  - {id: off, status: disabled, category: complaint, severity: low, owner: legal, when: {any: [退款]}}\n", false);
  ASSERT_NE(set, nullptr);
  EXPECT_THAT(FiredRules(*set, "退款"), IsEmpty());
  ASSERT_EQ(set->disabled_rules().size(), 1u);
  EXPECT_EQ(set->disabled_rules()[0].id, "off");
}

}  // namespace
}  // namespace vigil::rules
