// Silences: matching by fields with '*' patterns, and what a person may not ask for.
#include "alerts/silence.h"

#include <gtest/gtest.h>

namespace vigil::alerts {
namespace {

TEST(GlobMatchTest, StarMatchesAnyRunAndTheRestIsLiteral) {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  for (const Case& c : std::initializer_list<Case>{{"privacy.*", "privacy.cn_resident_id", true},
                                                   {"privacy.*", "privacy.", true},
                                                   {"privacy.*", "complaint.privacy", false},
                                                   {"*.refund*", "complaint.zh.refund_delay", true},
                                                   {"a*b*c", "axxbyyc", true},
                                                   {"a*b*c", "axxbyy", false},
                                                   {"拾光*", "拾光吧", true},
                                                   {"exact", "exact", true},
                                                   {"exact", "exactly", false},
                                                   {"", "", true},
                                                   {"**", "anything", true}}) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match) << c.pattern << " ~ " << c.text;
  }
}

TEST(SilenceTest, EveryMatcherMustHold) {
  Incident incident;
  incident.rule_id = "complaint.zh.refund_delay";
  incident.category = rules::Category::kComplaint;
  incident.severity = rules::Severity::kMedium;
  incident.owner = "customer_service";
  incident.community = "拾光吧";
  Silence silence{1, {{"rule", "complaint.*"}, {"community", "拾光吧"}}, 0, 10, "a", "c", 0};
  EXPECT_TRUE(silence.Matches(incident));
  silence.matchers["severity"] = "high";
  EXPECT_FALSE(silence.Matches(incident));
  silence.matchers["severity"] = "medium";
  silence.matchers["category"] = "complaint";
  silence.matchers["owner"] = "customer_*";
  EXPECT_TRUE(silence.Matches(incident));
  EXPECT_EQ(silence.StateAt(-1), "pending");
  EXPECT_EQ(silence.StateAt(0), "active");
  EXPECT_EQ(silence.StateAt(10), "expired");
}

TEST(SilenceTest, ValidationNamesTheField) {
  const Silence good{0, {{"rule", "privacy.*"}}, 0, 10, "alice", "known leak", 0};
  EXPECT_TRUE(ValidateSilence(good).ok());
  auto problem = [&](auto change) {
    Silence s = good;
    change(s);
    Status status = ValidateSilence(s);
    return status.ok() ? std::string("ok") : status.error().message;
  };
  EXPECT_EQ(problem([](Silence& s) { s.matchers.clear(); }),
            "matchers: at least one is needed (rule, category, severity, owner, community, key)");
  EXPECT_EQ(problem([](Silence& s) { s.matchers = {{"author", "x"}}; }),
            "matchers.author: unknown field; expected rule, category, severity, owner, community "
            "or key");
  EXPECT_EQ(problem([](Silence& s) { s.matchers = {{"rule", "*"}}; }),
            "matchers.rule: \"*\" would silence everything; name what to silence");
  EXPECT_EQ(problem([](Silence& s) { s.matchers = {{"rule", ""}}; }), "matchers.rule: empty value");
  EXPECT_EQ(problem([](Silence& s) { s.comment.clear(); }),
            "comment: say why (it is shown to the next responder)");
  EXPECT_EQ(problem([](Silence& s) { s.ends_ms = 0; }), "ends_ms: must be after starts_ms");
}

}  // namespace
}  // namespace vigil::alerts
