// Matches posts against a compiled RuleSet. Per post and field: validate UTF-8,
// normalise, one Hyperscan scan per database (literals, regexes) with SINGLEMATCH to
// learn which patterns occur; then only for rules whose every part occurred: RE2 to
// confirm and extract, validators on extracted values, `near`, `unless`, sentiment.
//
// Thread safety: Matcher functions are reentrant; each thread uses its own
// MatchScratch, built for one RuleSet (a scratch for another set is rebuilt on use).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "rules/rule_set.h"

namespace vigil::rules {

struct FieldText {
  Field field;
  std::string_view text;  // the original text as the post carries it
};

// A byte range of one original field.
struct Span {
  Field field = Field::kBody;
  uint32_t begin = 0;
  uint32_t end = 0;
  bool operator==(const Span&) const = default;
};

struct Hit {
  const CompiledRule* rule = nullptr;  // valid while the RuleSet lives
  std::vector<Span> spans;             // one per part (all items, then any)
  Field excerpt_field = Field::kBody;
  std::string excerpt;                 // around the first span, with masked values masked
  double sentiment = 0;                // the score that fired a sentiment rule
  std::vector<std::string> explanation;  // only when explaining; never holds masked values
};

// A candidate rule that did not fire, and why (only when explaining).
struct Rejection {
  const CompiledRule* rule = nullptr;
  std::string reason;
};

struct MatchResult {
  std::vector<Hit> hits;
  std::vector<Rejection> rejections;
  uint32_t candidates = 0;  // rules whose parts all occurred in the prefilter scan
  std::vector<uint32_t> candidate_rules;  // their indexes in RuleSet::rules()
  void clear() {
    hits.clear();
    rejections.clear();
    candidates = 0;
    candidate_rules.clear();
  }
};

struct MatchOptions {
  bool explain = false;
};

class MatchScratch {
 public:
  MatchScratch();
  ~MatchScratch();
  MatchScratch(const MatchScratch&) = delete;
  MatchScratch& operator=(const MatchScratch&) = delete;

 private:
  friend class MatchRun;
  struct State;
  std::unique_ptr<State> state_;
};

// Matches one post. Fails (and matches nothing) when a field is not valid UTF-8 or a
// field is repeated; Hyperscan failing on a valid database is a bug and aborts.
Status MatchPost(const RuleSet& rules, std::span<const FieldText> fields, MatchScratch& scratch,
                 MatchResult& out, const MatchOptions& options = {});

}  // namespace vigil::rules
