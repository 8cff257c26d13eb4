// A compiled rule set: every pattern of every enabled rule in one Hyperscan literal
// database and one Hyperscan regex database, RE2 confirmers for the regexes, and the
// rule structure the matcher evaluates. Immutable after Compile(); share it between
// threads with shared_ptr and give each thread its own MatchScratch.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <hs/hs.h>
#include <re2/re2.h>
#include <re2/set.h>

#include "core/result.h"
#include "rules/diagnostics.h"
#include "rules/normaliser.h"
#include "rules/rule.h"
#include "rules/sentiment.h"

namespace vigil::rules {

// One distinct pattern (shared by every rule that uses it).
struct Atom {
  Pattern::Kind kind = Pattern::Kind::kLiteral;
  std::string text;               // normalised literal, or regex expression
  std::unique_ptr<RE2> re;        // regexes only
  bool exact_prefilter = true;    // false: Hyperscan compiled it with HS_FLAG_PREFILTER
  bool always_candidate = false;  // no prefilter could take it: RE2 on every field
  // A regex without a literal factor (\b\d{17}[\dx]\b, an e-mail address): Hyperscan
  // runs such patterns as NFAs and a few dozen of them together crawl, so they are
  // prefiltered by one RE2::Set (a lazily built DFA) instead; exact either way.
  bool in_re2_set = false;
  int groups = 0;                 // capture groups (regexes)
};

// A rule after compilation. Parts are the items of `all`, then `any` as one more part.
struct CompiledRule {
  RuleDef def;
  std::vector<std::vector<uint32_t>> parts;  // atom ids per part
  std::vector<std::string> part_labels;
  std::vector<uint32_t> unless;              // atom ids
  uint64_t all_parts_mask = 0;               // (1 << parts.size()) - 1
  bool has_any_part = false;                 // the last part is `any`
};

struct CompileOptions {
  NormaliserOptions normaliser;
  std::string cache_dir;  // empty: no on-disk cache of compiled databases
};

struct CompileStats {
  double seconds = 0;
  bool literal_db_from_cache = false;
  bool regex_db_from_cache = false;
  size_t literal_count = 0;
  size_t regex_count = 0;
  size_t prefilter_count = 0;        // regexes Hyperscan runs as prefilters
  size_t re2_set_count = 0;          // literal-less regexes prefiltered by RE2::Set
  size_t always_candidate_count = 0; // regexes only RE2 runs
  size_t database_bytes = 0;
};

class RuleSet {
 public:
  // Compiles the enabled and experimental rules (disabled ones are kept for listing
  // only). Problems Hyperscan finds go to `diagnostics` with the pattern's location;
  // an error result means no usable set.
  static Result<std::shared_ptr<const RuleSet>> Compile(std::vector<RuleDef> rules,
                                                        const CompileOptions& options,
                                                        Diagnostics& diagnostics);
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  const std::vector<CompiledRule>& rules() const { return rules_; }
  const std::vector<RuleDef>& disabled_rules() const { return disabled_; }
  const std::vector<Atom>& atoms() const { return atoms_; }
  const Normaliser& normaliser() const { return *normaliser_; }
  const SentimentScorer* sentiment() const { return sentiment_.get(); }
  // Hex SHA-256 over every rule's definition: identifies the set in status and metrics.
  const std::string& hash() const { return hash_; }
  const CompileStats& stats() const { return stats_; }
  // Unique per compiled set in this process (scratch space is tied to one set).
  uint64_t serial() const { return serial_; }
  const CompiledRule* Find(std::string_view id) const;
  // The fields any compiled rule looks at: the matcher neither normalises nor scans
  // the others.
  FieldMask fields_used() const { return fields_used_; }

  // Hyperscan databases; null when the set has no pattern of that kind.
  const hs_database_t* literal_db() const { return literal_db_; }
  const hs_database_t* regex_db() const { return regex_db_; }
  // The RE2::Set of literal-less regexes (null if none) and its index -> atom id.
  const RE2::Set* re2_set() const { return re2_set_.get(); }
  const std::vector<uint32_t>& re2_set_atoms() const { return re2_set_atoms_; }

  // Postings: for atom a, the (rule, part) pairs that use it; part kUnlessPart for `unless`.
  static constexpr uint32_t kUnlessPart = 0xFFFFFFFF;
  struct Posting {
    uint32_t rule;
    uint32_t part;
  };
  std::span<const Posting> postings(uint32_t atom) const {
    return {postings_.data() + posting_begin_[atom], posting_begin_[atom + 1] - posting_begin_[atom]};
  }
  // Rules that are candidates whatever the scan found (sentiment-only rules, rules with
  // a regex that only RE2 can run).
  const std::vector<uint32_t>& unconditional_rules() const { return unconditional_; }
  const std::vector<uint32_t>& always_candidate_atoms() const { return always_candidate_atoms_; }

 private:
  RuleSet() = default;
  friend class RuleSetBuilder;

  std::vector<CompiledRule> rules_;
  std::vector<RuleDef> disabled_;
  std::vector<Atom> atoms_;
  std::vector<Posting> postings_;
  std::vector<uint32_t> posting_begin_;
  std::vector<uint32_t> unconditional_;
  std::vector<uint32_t> always_candidate_atoms_;
  std::unique_ptr<Normaliser> normaliser_;
  std::shared_ptr<const SentimentScorer> sentiment_;
  hs_database_t* literal_db_ = nullptr;
  hs_database_t* regex_db_ = nullptr;
  std::unique_ptr<RE2::Set> re2_set_;
  std::vector<uint32_t> re2_set_atoms_;
  std::string hash_;
  CompileStats stats_;
  uint64_t serial_ = 0;
  FieldMask fields_used_ = 0;
};

}  // namespace vigil::rules
