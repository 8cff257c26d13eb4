// Loader errors: exact messages and locations, all reported at once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/rules_fixture.h"

namespace vigil::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using vigil::testing::CompileYaml;
using vigil::testing::LintYaml;

TEST(RuleLoaderTest, ReportsEveryProblemWithFileLineColumnAndRuleId) {
  const std::string yaml = R"(rules:
  - id: bad.one
    category: complain
    severity: medium
    owner: customer_service
    colour: red
    when:
      any: [$nosuch, "re:(?=x)abc"]
      validate: luhnn
)";
  EXPECT_THAT(LintYaml(yaml),
              ElementsAre(
                  "test.yaml:3:15: error: unknown category 'complain' (expected sentiment, "
                  "complaint, privacy_leak or compliance) [bad.one]",
                  "test.yaml:6:5: error: unknown key 'colour' in rule (expected one of: id, "
                  "description, category, severity, owner, status, tags, fields, when, mask, "
                  "incident, examples) [bad.one]",
                  "test.yaml:8:13: error: unknown list '$nosuch' [bad.one]",
                  "test.yaml:8:22: error: regex '(?=x)abc': look-around ((?=, (?!, (?<=, (?<!) is "
                  "not supported: neither RE2 nor Hyperscan runs it in linear time; use 'unless' "
                  "or 'near' instead [bad.one]",
                  "test.yaml:9:17: error: unknown validator 'luhnn' (known: luhn, cn_resident_id, "
                  "cn_uscc, iban, cn_mobile, email, ipv4) [bad.one]"));
}

TEST(RuleLoaderTest, YamlSyntaxErrorIsLocatedAndDoesNotThrow) {
  EXPECT_THAT(LintYaml("rules: [ {id: x\n"),
              ElementsAre("test.yaml:2:1: error: YAML syntax error: end of map flow not found"));
  EXPECT_THAT(LintYaml("rules: {a: [}\n"), ElementsAre(HasSubstr("YAML syntax error")));
  EXPECT_THAT(LintYaml("- just\n- a list\n"),
              ElementsAre("test.yaml:1:1: error: a rule file is a mapping with 'lists', 'rules' "
                          "and 'overrides'"));
}

TEST(RuleLoaderTest, DuplicateIdsPointAtTheFirstDefinition) {
  const std::string yaml = R"(rules:
  - {id: a.rule, category: complaint, severity: low, owner: legal, when: {any: [x]}, examples: {hit: [x]}}
  - {id: a.rule, category: complaint, severity: low, owner: legal, when: {any: [y]}}
)";
  EXPECT_THAT(LintYaml(yaml),
              ElementsAre("test.yaml:3:10: error: duplicate rule id (first defined at "
                          "test.yaml:2:10); use 'overrides' to change a rule of another file "
                          "[a.rule]"));
}

TEST(RuleLoaderTest, RejectsRegexesNeitherEngineSupports) {
  const std::string yaml = R"(rules:
  - id: r
    category: complaint
    severity: low
    owner: legal
    when: {any: ["re:(a)\\1", "re:x*", "re:[unclosed", "re:Ä"]}
)";
  EXPECT_THAT(
      LintYaml(yaml),
      ElementsAre(
          "test.yaml:6:18: error: regex '(a)\\1': back-references are not supported: neither RE2 "
          "nor Hyperscan runs them in linear time [r]",
          "test.yaml:6:31: error: regex 'x*': the regex matches the empty string [r]",
          "test.yaml:6:40: error: regex '[unclosed': invalid regex: missing ]: [unclosed [r]",
          "test.yaml:6:56: error: regex 'Ä': 'Ä' never occurs in normalised text (matching is "
          "case-folded and NFKC-normalised); write 'ä' instead [r]"));
}

TEST(RuleLoaderTest, ChecksIncidentAndNear) {
  const std::string yaml = R"(rules:
  - id: r
    category: complaint
    severity: low
    owner: legal
    when: {any: [x], near: 3}
    incident: {count: 5, group_by: [planet], within: 10 minutes}
)";
  EXPECT_THAT(LintYaml(yaml),
              ElementsAre("test.yaml:6:28: error: 'near' needs at least two parts to bring "
                          "together ('all' with two or more items, or 'all' and 'any') [r]",
                          "test.yaml:7:23: error: 'count' above 1 needs 'within', the window the "
                          "hits must fall in [r]",
                          "test.yaml:7:36: error: cannot group incidents by 'planet' (expected: "
                          "community, platform, author, tag) [r]",
                          "test.yaml:7:54: error: 'within' must be a duration such as 30s, 10m, 2h "
                          "or 1d, not '10 minutes' [r]"));
}

TEST(RuleLoaderTest, FailingExamplesAreErrorsAtTheExample) {
  const std::string yaml = R"(rules:
  - id: r
    category: complaint
    severity: low
    owner: legal
    when: {any: [退款]}
    examples:
      hit: [退款, 没有]
      miss: [退 款]
)";
  EXPECT_THAT(LintYaml(yaml),
              // Columns count bytes, as yaml-cpp reports them: 退款 is six.
              ElementsAre("test.yaml:8:21: error: example failed: expected a hit, got none (no "
                          "pattern of the rule occurred): \"没有\" [r]",
                          "test.yaml:9:14: error: example failed: expected no hit, got one: \"退 "
                          "款\" [r]"));
}

TEST(RuleLoaderTest, ListsExpandAcrossFilesAndCyclesAreCaught) {
  rules::Diagnostics diagnostics;
  const std::vector<RuleSource> sources = {
      {"a.yaml", "lists: {refund: [退款, $money], money: [退钱, $refund]}\n"},
      {"b.yaml", "rules:\n  - {id: r, category: complaint, severity: low, owner: legal, when: {any: [$refund]}}\n"}};
  auto set = LoadRuleSet(sources, {}, diagnostics);
  EXPECT_FALSE(set.ok());
  ASSERT_EQ(diagnostics.error_count(), 1);
  EXPECT_EQ(diagnostics.items()[0].message, "list '$refund' refers to itself (through refund -> money)");
  EXPECT_EQ(diagnostics.items()[0].where.ToString(), "a.yaml:1:51");
}

TEST(RuleLoaderTest, OverridesChangeAPackRule) {
  rules::Diagnostics diagnostics;
  const std::vector<RuleSource> sources = {
      {"pack.yaml", "rules:\n  - {id: r, category: complaint, severity: low, owner: legal, when: {any: [退款]}}\n"},
      {"local.yaml", "overrides:\n  - {id: r, severity: critical, status: experimental}\n  - {id: nope, severity: low}\n"}};
  auto set = LoadRuleSet(sources, {.check_examples = false}, diagnostics);
  ASSERT_EQ(diagnostics.error_count(), 1);
  EXPECT_EQ(diagnostics.Sorted()[0].ToString(),
            "local.yaml:3:10: error: override of a rule that no earlier file defines [nope]");

  rules::Diagnostics clean;
  auto good = LoadRuleSet(std::vector<RuleSource>{sources[0], {"local.yaml", "overrides:\n  - {id: r, severity: critical, status: experimental}\n"}},
                          {.check_examples = false}, clean);
  ASSERT_TRUE(good.ok()) << good.error().message;
  const CompiledRule* rule = (*good)->Find("r");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->def.severity, Severity::kCritical);
  EXPECT_EQ(rule->def.status, RuleStatus::kExperimental);
}

TEST(RuleLoaderTest, ReadsEveryKeyOfAFullRule) {
  auto set = CompileYaml(R"(lists:
  refund: [退款, refund]
rules:
  - id: complaint.refund_delay
    description: Refund promised but not received
    category: complaint
    severity: high
    owner: customer_service
    status: experimental
    tags: [refund, payment]
    fields: [title, body, author.name]
    when:
      all: [$refund, "re:拖了\\d+天"]
      near: 30
      unless: [已到账]
    incident: {group_by: [community, platform], count: 20, within: 10m, resolve_after: 2h,
               spike: {factor: 4, baseline: 1h, min_count: 10}}
    examples:
      hit: [退款拖了3天, {title: 退款, body: 拖了5天}]
      miss: [退款已到账拖了3天]
)", /*check_examples=*/false);
  ASSERT_NE(set, nullptr);
  const RuleDef& def = set->rules().at(0).def;
  EXPECT_EQ(def.description, "Refund promised but not received");
  EXPECT_EQ(def.severity, Severity::kHigh);
  EXPECT_EQ(def.status, RuleStatus::kExperimental);
  EXPECT_THAT(def.tags, ElementsAre("refund", "payment"));
  EXPECT_EQ(def.fields, FieldBit(Field::kTitle) | FieldBit(Field::kBody) | FieldBit(Field::kAuthorName));
  ASSERT_EQ(def.all.size(), 2u);
  EXPECT_EQ(def.all[0].patterns.size(), 2u);
  EXPECT_EQ(def.near, 30);
  EXPECT_THAT(def.incident.group_by, ElementsAre("community", "platform"));
  EXPECT_EQ(def.incident.count, 20);
  EXPECT_EQ(def.incident.within.count(), 600);
  EXPECT_EQ(def.incident.resolve_after.count(), 7200);
  ASSERT_TRUE(def.incident.spike.has_value());
  EXPECT_EQ(def.incident.spike->factor, 4);
  EXPECT_EQ(def.hit_examples.size(), 2u);
  EXPECT_EQ(def.hit_examples[1].fields.size(), 2u);
  EXPECT_EQ(def.miss_examples.size(), 1u);
}

TEST(RuleLoaderTest, UnknownOwnerIsAWarningNotAnError) {
  rules::Diagnostics diagnostics;
  auto set = LoadRuleSet(std::vector<RuleSource>{{"t.yaml", "rules:\n  - {id: r, category: complaint, severity: low, owner: night_shift, when: {any: [x]}, examples: {hit: [x]}}\n"}},
                         {}, diagnostics);
  EXPECT_TRUE(set.ok());
  ASSERT_EQ(diagnostics.warning_count(), 1);
  EXPECT_EQ(diagnostics.items()[0].ToString(), "t.yaml:2:56: warning: owner 'night_shift' is not one of the standard roles [r]");
}

TEST(RuleLoaderTest, MissingFileIsAnErrorNamingThePath) {
  rules::Diagnostics diagnostics;
  auto set = LoadRuleSet(std::vector<std::string>{"/nonexistent/rules.yaml"}, {}, diagnostics);
  EXPECT_FALSE(set.ok());
  EXPECT_EQ(diagnostics.Sorted()[0].ToString(), "/nonexistent/rules.yaml: error: no such file or folder");
}

}  // namespace
}  // namespace vigil::rules
