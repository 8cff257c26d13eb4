// RuleSet::Compile: deduplicates patterns into atoms, builds the postings that map an
// atom to the rules using it, and compiles the Hyperscan databases.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>

#include <fmt/format.h>
#include <re2/filtered_re2.h>

#include "core/hash.h"
#include "rules/hs_database.h"
#include "rules/rule_set.h"

namespace vigil::rules {

namespace {

// True when a regex has an ASCII upper-case letter outside an escape (\D, \W, \S,
// \B, \P{Name}, \x{4E00} ... keep their case) and so must be compiled caseless to
// match case-folded text as the author meant. RE2 always runs caseless; on
// case-folded text both agree.
bool NeedsCaseless(std::string_view expression) {
  for (size_t i = 0; i < expression.size(); ++i) {
    const char c = expression[i];
    if (c == '\\' && i + 1 < expression.size()) {
      ++i;  // the escaped character
      if (i + 1 < expression.size() && expression[i + 1] == '{' &&
          (expression[i] == 'p' || expression[i] == 'P' || expression[i] == 'x')) {
        const size_t close = expression.find('}', i);
        if (close == std::string_view::npos) return true;
        i = close;
      }
      continue;
    }
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

}  // namespace

class RuleSetBuilder {
 public:
  RuleSetBuilder(const CompileOptions& options, Diagnostics& diagnostics)
      : options_(options), diagnostics_(diagnostics), set_(new RuleSet()) {}

  Result<std::shared_ptr<const RuleSet>> Build(std::vector<RuleDef> rules) {
    const auto start = std::chrono::steady_clock::now();
    static std::atomic<uint64_t> next_serial{1};
    set_->serial_ = next_serial++;
    set_->normaliser_ = std::make_unique<Normaliser>(options_.normaliser);
    std::string canonical;
    bool needs_sentiment = false;
    for (RuleDef& def : rules) {
      AppendCanonical(def, canonical);
      if (def.status == RuleStatus::kDisabled) {
        set_->disabled_.push_back(std::move(def));
        continue;
      }
      needs_sentiment |= def.sentiment.has_value();
      AddRule(std::move(def));
    }
    set_->hash_ = Sha256Hex(canonical);
    BuildPostings();
    if (Status s = CompileDatabases(); !s.ok()) return s.error();
    if (needs_sentiment) {
      auto scorer = SentimentScorer::Builtin();
      if (!scorer.ok()) return scorer.error();
      set_->sentiment_ = std::move(scorer).value();
    }
    for (uint32_t r = 0; r < set_->rules_.size(); ++r) {
      const CompiledRule& rule = set_->rules_[r];
      bool unconditional = rule.parts.empty();
      for (const auto& part : rule.parts) {
        for (uint32_t a : part) unconditional |= set_->atoms_[a].always_candidate;
      }
      if (unconditional) set_->unconditional_.push_back(r);
    }
    set_->stats_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::shared_ptr<const RuleSet>(set_.release());
  }

 private:
  uint32_t AtomFor(const Pattern& pattern, const std::string& rule_id) {
    auto key = std::make_pair(pattern.kind, pattern.text);
    if (auto found = atom_index_.find(key); found != atom_index_.end()) return found->second;
    Atom atom;
    atom.kind = pattern.kind;
    atom.text = pattern.text;
    if (pattern.kind == Pattern::Kind::kRegex) {
      RE2::Options re_options;
      re_options.set_log_errors(false);
      re_options.set_case_sensitive(false);
      atom.re = std::make_unique<RE2>(pattern.text, re_options);
      atom.groups = atom.re->NumberOfCapturingGroups();
      if (!atom.re->ok()) {  // the loader checked it; keep the promise of never crashing
        diagnostics_.Error(pattern.where, rule_id, "invalid regex: " + atom.re->error());
      }
    }
    const uint32_t id = uint32_t(set_->atoms_.size());
    set_->atoms_.push_back(std::move(atom));
    atom_where_.push_back({pattern.where, rule_id});
    atom_index_.emplace(std::move(key), id);
    return id;
  }

  void AddRule(RuleDef def) {
    CompiledRule rule;
    for (const PatternGroup& group : def.all) {
      std::vector<uint32_t> part;
      for (const Pattern& p : group.patterns) part.push_back(AtomFor(p, def.id));
      std::sort(part.begin(), part.end());
      part.erase(std::unique(part.begin(), part.end()), part.end());
      rule.parts.push_back(std::move(part));
      rule.part_labels.push_back(group.label);
    }
    if (!def.any.patterns.empty()) {
      std::vector<uint32_t> part;
      for (const Pattern& p : def.any.patterns) part.push_back(AtomFor(p, def.id));
      std::sort(part.begin(), part.end());
      part.erase(std::unique(part.begin(), part.end()), part.end());
      rule.parts.push_back(std::move(part));
      rule.part_labels.push_back("any");
      rule.has_any_part = true;
    }
    for (const Pattern& p : def.unless) rule.unless.push_back(AtomFor(p, def.id));
    rule.all_parts_mask = rule.parts.size() >= 64 ? ~0ull : (1ull << rule.parts.size()) - 1;
    set_->fields_used_ |= def.fields;
    rule.def = std::move(def);
    set_->rules_.push_back(std::move(rule));
  }

  void BuildPostings() {
    std::vector<std::vector<RuleSet::Posting>> by_atom(set_->atoms_.size());
    for (uint32_t r = 0; r < set_->rules_.size(); ++r) {
      const CompiledRule& rule = set_->rules_[r];
      for (uint32_t p = 0; p < rule.parts.size(); ++p) {
        for (uint32_t a : rule.parts[p]) by_atom[a].push_back({r, p});
      }
      for (uint32_t a : rule.unless) by_atom[a].push_back({r, RuleSet::kUnlessPart});
    }
    set_->posting_begin_.push_back(0);
    for (const auto& list : by_atom) {
      set_->postings_.insert(set_->postings_.end(), list.begin(), list.end());
      set_->posting_begin_.push_back(uint32_t(set_->postings_.size()));
    }
  }

  // Regexes with no literal factor of two or more bytes go to the RE2::Set.
  void SplitOffLiteralLessRegexes() {
    re2::FilteredRE2 filter(2);
    std::vector<uint32_t> ids;
    for (uint32_t a = 0; a < set_->atoms_.size(); ++a) {
      const Atom& atom = set_->atoms_[a];
      if (atom.kind != Pattern::Kind::kRegex || !atom.re->ok()) continue;
      int id = 0;
      if (filter.Add(atom.text, atom.re->options(), &id) != RE2::NoError) continue;
      ids.push_back(a);
    }
    if (ids.empty()) return;
    std::vector<std::string> literal_factors;
    filter.Compile(&literal_factors);
    std::vector<int> unfiltered;
    filter.AllPotentials({}, &unfiltered);  // with no factor present: the literal-less ones
    if (unfiltered.empty()) return;
    RE2::Options options = set_->atoms_[ids.front()].re->options();
    options.set_max_mem(int64_t(64) << 20);  // DFA cache; on exhaustion see the matcher
    auto re2_set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    for (int i : unfiltered) {
      Atom& atom = set_->atoms_[ids[size_t(i)]];
      if (re2_set->Add(atom.text, nullptr) < 0) continue;
      atom.in_re2_set = true;
      set_->re2_set_atoms_.push_back(ids[size_t(i)]);
    }
    if (!re2_set->Compile()) {  // out of memory: leave them all to Hyperscan
      for (uint32_t a : set_->re2_set_atoms_) set_->atoms_[a].in_re2_set = false;
      set_->re2_set_atoms_.clear();
      return;
    }
    set_->stats_.re2_set_count = set_->re2_set_atoms_.size();
    set_->re2_set_ = std::move(re2_set);
  }

  Status CompileDatabases() {
    SplitOffLiteralLessRegexes();
    HsPatternList literals{.literal = true};
    HsPatternList regexes{.literal = false};
    std::vector<uint32_t> regex_atoms;
    for (uint32_t a = 0; a < set_->atoms_.size(); ++a) {
      const Atom& atom = set_->atoms_[a];
      if (atom.in_re2_set) continue;
      HsPatternList& list = atom.kind == Pattern::Kind::kLiteral ? literals : regexes;
      list.expressions.push_back(atom.text);
      list.ids.push_back(a);
      if (atom.kind == Pattern::Kind::kLiteral) {
        // Text and literals are both case folded, so no HS_FLAG_CASELESS.
        list.flags.push_back(HS_FLAG_SINGLEMATCH);
        ++set_->stats_.literal_count;
      } else {
        // Text is case folded, so only a pattern with upper-case letters needs
        // HS_FLAG_CASELESS, which slows Hyperscan down several times.
        list.flags.push_back(HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH |
                             (NeedsCaseless(atom.text) ? HS_FLAG_CASELESS : 0u));
        regex_atoms.push_back(a);
        ++set_->stats_.regex_count;
      }
    }
    Result<HsDatabase> literal_db = BuildHsDatabase(literals, options_.cache_dir);
    if (!literal_db.ok()) return literal_db.error();
    if (!literal_db->dropped.empty()) {
      return Error{"Hyperscan rejected a literal: " + literal_db->dropped_reasons.front(), {}};
    }
    Result<HsDatabase> regex_db = BuildHsDatabase(regexes, options_.cache_dir);
    if (!regex_db.ok()) {
      if (literal_db->db) hs_free_database(literal_db->db);
      return regex_db.error();
    }
    set_->literal_db_ = literal_db->db;
    set_->regex_db_ = regex_db->db;
    set_->stats_.literal_db_from_cache = literal_db->from_cache;
    set_->stats_.regex_db_from_cache = regex_db->from_cache;
    for (uint32_t i : regex_db->prefiltered) {
      set_->atoms_[regex_atoms[i]].exact_prefilter = false;
      ++set_->stats_.prefilter_count;
    }
    for (size_t k = 0; k < regex_db->dropped.size(); ++k) {
      const uint32_t a = regex_atoms[regex_db->dropped[k]];
      set_->atoms_[a].always_candidate = true;
      set_->always_candidate_atoms_.push_back(a);
      ++set_->stats_.always_candidate_count;
      diagnostics_.Warning(atom_where_[a].first, atom_where_[a].second,
                           fmt::format("Hyperscan cannot prefilter regex '{}' ({}); RE2 runs it on "
                                       "every post, which is slow",
                                       set_->atoms_[a].text, regex_db->dropped_reasons[k]));
    }
    for (const hs_database_t* db : {set_->literal_db_, set_->regex_db_}) {
      size_t bytes = 0;
      if (db && hs_database_size(db, &bytes) == HS_SUCCESS) set_->stats_.database_bytes += bytes;
    }
    return Status::Ok();
  }

  // A stable text form of everything that changes matching or routing.
  static void AppendCanonical(const RuleDef& def, std::string& out) {
    out += fmt::format("rule {} {} {} {} {} {} {:#x} near={} mask={} val={}\n", def.id,
                       CategoryName(def.category), SeverityName(def.severity), def.owner,
                       StatusName(def.status), fmt::join(def.tags, ","), def.fields, def.near,
                       def.mask, def.validate ? ValidatorName(*def.validate) : "-");
    for (const PatternGroup& g : def.all) {
      out += "all";
      for (const Pattern& p : g.patterns) out += fmt::format(" {}:{}", int(p.kind), p.text);
      out += '\n';
    }
    out += "any";
    for (const Pattern& p : def.any.patterns) out += fmt::format(" {}:{}", int(p.kind), p.text);
    out += "\nunless";
    for (const Pattern& p : def.unless) out += fmt::format(" {}:{}", int(p.kind), p.text);
    if (def.sentiment) out += fmt::format("\nsentiment {} {}", def.sentiment->below, def.sentiment->threshold);
    out += fmt::format("\nincident {} {} {} {}\n", fmt::join(def.incident.group_by, ","),
                       def.incident.count, def.incident.within.count(),
                       def.incident.resolve_after.count());
  }

  const CompileOptions& options_;
  Diagnostics& diagnostics_;
  std::unique_ptr<RuleSet> set_;
  std::map<std::pair<Pattern::Kind, std::string>, uint32_t> atom_index_;
  std::vector<std::pair<Location, std::string>> atom_where_;
};

Result<std::shared_ptr<const RuleSet>> RuleSet::Compile(std::vector<RuleDef> rules,
                                                        const CompileOptions& options,
                                                        Diagnostics& diagnostics) {
  RuleSetBuilder builder(options, diagnostics);
  return builder.Build(std::move(rules));
}

RuleSet::~RuleSet() {
  if (literal_db_) hs_free_database(literal_db_);
  if (regex_db_) hs_free_database(regex_db_);
}

const CompiledRule* RuleSet::Find(std::string_view id) const {
  for (const CompiledRule& rule : rules_) {
    if (rule.def.id == id) return &rule;
  }
  return nullptr;
}

}  // namespace vigil::rules
