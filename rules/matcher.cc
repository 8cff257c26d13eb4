#include "rules/matcher.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "rules/excerpt.h"

namespace vigil::rules {
namespace {

// Bounds the work one pathological field can cause in the confirm stage.
constexpr size_t kMaxOccurrencesPerAtom = 4096;

struct Occurrence {
  uint32_t begin, end;              // normalised bytes
  uint32_t value_begin, value_end;  // the extracted value: group 1 if any, else the match
};

struct OccurrenceList {
  uint32_t atom;
  int slot;
  uint32_t first;
  uint32_t count;
};

uint32_t CountChars(std::string_view text, uint32_t end) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < end; ++i) n += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
  return n;
}

[[noreturn]] void ScanBug(hs_error_t rc) {
  // A failed scan of a valid database is a bug, not a condition to handle (STYLE.md).
  std::fprintf(stderr, "vigil: hs_scan failed with error %d on a valid database\n", rc);
  std::abort();
}

}  // namespace

struct MatchScratch::State {
  uint64_t set_serial = 0;
  hs_scratch_t* hs = nullptr;
  std::vector<FieldMask> atom_fields;  // per atom: the fields (FieldBit) where it occurred
  std::vector<uint32_t> touched_atoms;
  std::vector<uint64_t> rule_parts;  // per rule: parts that occurred in the rule's fields
  std::vector<uint32_t> touched_rules;
  std::vector<uint32_t> candidates;
  std::vector<int> set_matches;
  std::array<NormalisedText, kFieldCount> text;
  std::array<NormalisedText, kFieldCount> mapped;  // with offsets, computed on demand
  std::array<bool, kFieldCount> mapped_done{};
  std::array<double, kFieldCount> sentiment{};
  std::array<bool, kFieldCount> sentiment_done{};
  std::array<int, kFieldCount> slot_of_field{};  // field -> slot, -1 if absent
  std::vector<OccurrenceList> occurrence_index;
  std::vector<Occurrence> occurrences;

  ~State() {
    if (hs) hs_free_scratch(hs);
  }

  void Prepare(const RuleSet& set) {
    if (set_serial != set.serial()) {
      for (const hs_database_t* db : {set.literal_db(), set.regex_db()}) {
        if (db && hs_alloc_scratch(db, &hs) != HS_SUCCESS) {
          std::fprintf(stderr, "vigil: cannot allocate Hyperscan scratch\n");
          std::abort();
        }
      }
      atom_fields.assign(set.atoms().size(), 0);
      rule_parts.assign(set.rules().size(), 0);
      touched_atoms.clear();
      touched_rules.clear();
      set_serial = set.serial();
    }
    for (uint32_t a : touched_atoms) atom_fields[a] = 0;
    for (uint32_t r : touched_rules) rule_parts[r] = 0;
    touched_atoms.clear();
    touched_rules.clear();
    candidates.clear();
    occurrence_index.clear();
    occurrences.clear();
    mapped_done.fill(false);
    sentiment_done.fill(false);
    slot_of_field.fill(-1);
  }
};

MatchScratch::MatchScratch() : state_(std::make_unique<State>()) {}
MatchScratch::~MatchScratch() = default;

// One post's evaluation. Hits are built in two steps: confirm (structured evidence),
// then render (excerpts and explanations, once every masked range of the post is known).
class MatchRun {
 public:
  MatchRun(const RuleSet& set, std::span<const FieldText> fields, MatchScratch& scratch,
           MatchResult& out, const MatchOptions& options)
      : set_(set), fields_(fields), s_(*scratch.state_), out_(out), options_(options) {}

  Status Run() {
    out_.clear();
    s_.Prepare(set_);
    if (fields_.size() > size_t(kFieldCount)) return Error{"too many fields", {}};
    for (size_t slot = 0; slot < fields_.size(); ++slot) {
      const Field field = fields_[slot].field;
      int& known = s_.slot_of_field[static_cast<int>(field)];
      if (known >= 0) return Error{fmt::format("field '{}' given twice", FieldName(field)), {}};
      known = int(slot);
      if (!(set_.fields_used() & FieldBit(field))) {
        // No rule reads it: still reject invalid UTF-8 (the post is bad), skip the work.
        if (!IsValidUtf8(fields_[slot].text)) {
          return Error{fmt::format("field '{}' is not valid UTF-8", FieldName(field)), {}};
        }
        s_.text[slot].text.clear();
        continue;
      }
      if (!set_.normaliser().Normalise(fields_[slot].text, s_.text[slot])) {
        return Error{fmt::format("field '{}' is not valid UTF-8", FieldName(field)), {}};
      }
      present_ |= FieldBit(field);
      Scan(int(slot));
    }
    MarkAlwaysCandidates();
    CollectCandidates();
    out_.candidates = uint32_t(s_.candidates.size());
    out_.candidate_rules.assign(s_.candidates.begin(), s_.candidates.end());
    for (uint32_t r : s_.candidates) Confirm(r);
    Render();
    return Status::Ok();
  }

 private:
  struct Evidence {
    uint32_t rule;
    std::vector<Span> spans;              // original offsets
    std::vector<std::string> notes;       // explanation lines free of post text
    int excerpt_slot = -1;
    uint32_t excerpt_begin = 0, excerpt_end = 0;
    double sentiment = 0;
  };

  struct ScanContext {
    MatchScratch::State* state;
    FieldMask bit;
  };

  static int OnMatch(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
    auto* c = static_cast<ScanContext*>(ctx);
    FieldMask& bits = c->state->atom_fields[id];
    if (bits == 0) c->state->touched_atoms.push_back(id);
    bits |= c->bit;
    return 0;
  }

  void Scan(int slot) {
    const std::string& text = s_.text[slot].text;
    if (text.empty()) return;
    ScanContext ctx{&s_, FieldBit(fields_[slot].field)};
    for (const hs_database_t* db : {set_.literal_db(), set_.regex_db()}) {
      if (!db) continue;
      const hs_error_t rc =
          hs_scan(db, text.data(), unsigned(text.size()), 0, s_.hs, &MatchRun::OnMatch, &ctx);
      if (rc != HS_SUCCESS) ScanBug(rc);
    }
    if (const RE2::Set* re2_set = set_.re2_set()) {
      RE2::Set::ErrorInfo error{};
      s_.set_matches.clear();
      if (re2_set->Match(text, &s_.set_matches, &error)) {
        for (int i : s_.set_matches) OnMatch(set_.re2_set_atoms()[size_t(i)], 0, 0, 0, &ctx);
      } else if (error.kind != RE2::Set::kNoError) {
        // The DFA ran out of memory: every pattern of the set is a candidate, and RE2
        // confirms each. Slower for this field, never a missed hit.
        for (uint32_t a : set_.re2_set_atoms()) OnMatch(a, 0, 0, 0, &ctx);
      }
    }
  }

  void MarkAlwaysCandidates() {
    for (uint32_t a : set_.always_candidate_atoms()) {
      if (s_.atom_fields[a] == 0) s_.touched_atoms.push_back(a);
      s_.atom_fields[a] = present_;
    }
  }

  void CollectCandidates() {
    const auto& rules = set_.rules();
    for (uint32_t a : s_.touched_atoms) {
      for (const RuleSet::Posting& p : set_.postings(a)) {
        if (p.part == RuleSet::kUnlessPart || !(s_.atom_fields[a] & rules[p.rule].def.fields)) continue;
        uint64_t& parts = s_.rule_parts[p.rule];
        if (parts == 0) s_.touched_rules.push_back(p.rule);
        parts |= 1ull << p.part;
      }
    }
    for (uint32_t r : s_.touched_rules) {
      if (s_.rule_parts[r] == rules[r].all_parts_mask) s_.candidates.push_back(r);
    }
    for (uint32_t r : set_.unconditional_rules()) {
      if (rules[r].parts.empty()) s_.candidates.push_back(r);
    }
    std::sort(s_.candidates.begin(), s_.candidates.end());
  }

  // Every occurrence of an atom in one field slot, cached for the post. The span stays
  // valid only until the next call (the cache may grow).
  std::span<const Occurrence> Occurrences(uint32_t atom_id, int slot) {
    for (const OccurrenceList& list : s_.occurrence_index) {
      if (list.atom == atom_id && list.slot == slot) return {s_.occurrences.data() + list.first, list.count};
    }
    const uint32_t first = uint32_t(s_.occurrences.size());
    const Atom& atom = set_.atoms()[atom_id];
    const std::string_view text = s_.text[slot].text;
    if (atom.kind == Pattern::Kind::kLiteral) {
      for (size_t at = text.find(atom.text); at != std::string_view::npos;
           at = text.find(atom.text, at + atom.text.size())) {
        const uint32_t b = uint32_t(at), e = uint32_t(at + atom.text.size());
        s_.occurrences.push_back({b, e, b, e});
        if (s_.occurrences.size() - first == kMaxOccurrencesPerAtom) break;
      }
    } else {
      re2::StringPiece input(text.data(), text.size());
      re2::StringPiece groups[2];
      const int n = atom.groups > 0 ? 2 : 1;
      size_t pos = 0;
      while (pos <= text.size() && atom.re->Match(input, pos, text.size(), RE2::UNANCHORED, groups, n)) {
        const uint32_t b = uint32_t(groups[0].data() - text.data());
        const uint32_t e = b + uint32_t(groups[0].size());
        const re2::StringPiece value = (n > 1 && groups[1].data()) ? groups[1] : groups[0];
        const uint32_t vb = uint32_t(value.data() - text.data());
        s_.occurrences.push_back({b, e, vb, vb + uint32_t(value.size())});
        if (s_.occurrences.size() - first == kMaxOccurrencesPerAtom) break;
        pos = e;
        if (e == b) {  // empty match: step over one character
          ++pos;
          while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
        }
      }
    }
    const uint32_t count = uint32_t(s_.occurrences.size()) - first;
    s_.occurrence_index.push_back({atom_id, slot, first, count});
    return {s_.occurrences.data() + first, count};
  }

  double SentimentOf(int slot) {
    if (!s_.sentiment_done[slot]) {
      s_.sentiment[slot] = set_.sentiment()->Score(s_.text[slot].text).compound;
      s_.sentiment_done[slot] = true;
    }
    return s_.sentiment[slot];
  }

  const NormalisedText& Mapped(int slot) {
    if (!s_.mapped_done[slot]) {
      set_.normaliser().Normalise(fields_[slot].text, s_.mapped[slot], /*with_offsets=*/true);
      s_.mapped_done[slot] = true;
    }
    return s_.mapped[slot];
  }

  Span ToSpan(int slot, uint32_t begin, uint32_t end) {
    const auto [b, e] = Mapped(slot).ToOriginal(begin, end);
    return Span{fields_[slot].field, b, e};
  }

  // Slots in field order (title before body ...), restricted to the rule's fields.
  std::vector<int> OrderedSlots(const CompiledRule& rule) const {
    std::vector<int> slots;
    for (int f = 0; f < kFieldCount; ++f) {
      if ((rule.def.fields & (1u << f)) && s_.slot_of_field[f] >= 0) slots.push_back(s_.slot_of_field[f]);
    }
    return slots;
  }

  // Occurrences of one part in one slot that pass the rule's validator.
  struct PartOccurrence {
    Occurrence occ;
    uint32_t atom;
  };
  std::vector<PartOccurrence> PartOccurrences(const CompiledRule& rule, size_t part, int slot,
                                              int& rejected_by_validator) {
    std::vector<PartOccurrence> found;
    const std::string_view text = s_.text[slot].text;
    for (uint32_t a : rule.parts[part]) {
      if (!(s_.atom_fields[a] & FieldBit(fields_[slot].field))) continue;
      const bool validate = rule.def.validate && set_.atoms()[a].kind == Pattern::Kind::kRegex;
      for (const Occurrence& o : Occurrences(a, slot)) {
        if (validate && !Validate(*rule.def.validate, text.substr(o.value_begin, o.value_end - o.value_begin))) {
          ++rejected_by_validator;
          continue;
        }
        found.push_back({o, a});
      }
    }
    std::sort(found.begin(), found.end(), [](const PartOccurrence& x, const PartOccurrence& y) {
      return std::tie(x.occ.begin, x.occ.end, x.atom) < std::tie(y.occ.begin, y.occ.end, y.atom);
    });
    return found;
  }

  bool UnlessMatched(const CompiledRule& rule, std::string& reason) {
    for (uint32_t a : rule.unless) {
      const FieldMask seen = s_.atom_fields[a] & rule.def.fields;
      if (!seen) continue;
      const Atom& atom = set_.atoms()[a];
      for (int slot = 0; slot < int(fields_.size()); ++slot) {
        if (!(seen & FieldBit(fields_[slot].field))) continue;
        const bool exact = atom.kind == Pattern::Kind::kLiteral ||
                           (atom.exact_prefilter && !atom.always_candidate);  // RE2::Set is exact too
        if (exact || !Occurrences(a, slot).empty()) {
          reason = fmt::format("unless '{}' matched in {}", atom.text, FieldName(fields_[slot].field));
          return true;
        }
      }
    }
    return false;
  }

  void Reject(uint32_t r, std::string reason) {
    if (options_.explain) out_.rejections.push_back({&set_.rules()[r], std::move(reason)});
  }

  void Confirm(uint32_t r) {
    const CompiledRule& rule = set_.rules()[r];
    std::string reason;
    if (UnlessMatched(rule, reason)) return Reject(r, reason);
    const std::vector<int> slots = OrderedSlots(rule);
    if (slots.empty()) return Reject(r, "none of the rule's fields is in the post");
    Evidence ev{r, {}, {}, -1, 0, 0, 0};
    if (rule.def.sentiment && !ConfirmSentiment(rule, slots, ev, reason)) return Reject(r, reason);
    if (!rule.parts.empty()) {
      const bool ok = rule.def.near > 0 ? ConfirmNear(rule, slots, ev, reason)
                                        : ConfirmParts(rule, slots, ev, reason);
      if (!ok) return Reject(r, reason);
    }
    evidence_.push_back(std::move(ev));
  }

  bool ConfirmSentiment(const CompiledRule& rule, const std::vector<int>& slots, Evidence& ev,
                        std::string& reason) {
    const SentimentCondition& c = *rule.def.sentiment;
    int best_slot = slots.front();
    double best = SentimentOf(best_slot);
    for (int slot : slots) {
      const double score = SentimentOf(slot);
      if (c.below ? score < best : score > best) best = score, best_slot = slot;
    }
    ev.sentiment = best;
    if (c.below ? !(best < c.threshold) : !(best > c.threshold)) {
      reason = fmt::format("sentiment {:.3f} is not {} {}", best, c.below ? "below" : "above", c.threshold);
      return false;
    }
    if (options_.explain) {
      ev.notes.push_back(fmt::format("sentiment {:.3f} in {} is {} {}", best,
                                     FieldName(fields_[best_slot].field),
                                     c.below ? "below" : "above", c.threshold));
    }
    // Shown when the rule has no patterns: the start of the most extreme field.
    ev.excerpt_slot = best_slot;
    ev.excerpt_begin = 0;
    ev.excerpt_end = uint32_t(fields_[best_slot].text.size());
    return true;
  }

  void AddSpan(Evidence& ev, const CompiledRule& rule, size_t part, int slot, const PartOccurrence& po) {
    ev.spans.push_back(ToSpan(slot, po.occ.begin, po.occ.end));
    if (ev.spans.size() == 1) {  // the excerpt shows the first part's match
      ev.excerpt_slot = slot;
      ev.excerpt_begin = ev.spans.back().begin;
      ev.excerpt_end = ev.spans.back().end;
    }
    if (options_.explain) {
      const std::string which = part < rule.def.all.size()
                                    ? fmt::format("all[{}] '{}'", part, rule.part_labels[part])
                                    : std::string("any");
      ev.notes.push_back(fmt::format("{} matched by pattern '{}' at {}:{}-{}", which,
                                     set_.atoms()[po.atom].text, FieldName(fields_[slot].field),
                                     ev.spans.back().begin, ev.spans.back().end));
    }
  }

  // Without `near`: each part's first occurrence in field order.
  bool ConfirmParts(const CompiledRule& rule, const std::vector<int>& slots, Evidence& ev,
                    std::string& reason) {
    for (size_t part = 0; part < rule.parts.size(); ++part) {
      int rejected = 0;
      bool found = false;
      for (int slot : slots) {
        std::vector<PartOccurrence> occ = PartOccurrences(rule, part, slot, rejected);
        if (occ.empty()) continue;
        AddSpan(ev, rule, part, slot, occ.front());
        found = true;
        break;
      }
      if (!found) {
        reason = rejected > 0 ? fmt::format("validator {} rejected {} candidate value(s) for '{}'",
                                            ValidatorName(*rule.def.validate), rejected, rule.part_labels[part])
                              : fmt::format("'{}' did not confirm", rule.part_labels[part]);
        return false;
      }
    }
    if (rule.def.validate && options_.explain) {
      ev.notes.push_back(fmt::format("validator {} passed", ValidatorName(*rule.def.validate)));
    }
    return true;
  }

  // With `near`: in one field, one occurrence per part such that the last start minus
  // the first end is at most `near` characters. Sweep by start: for the occurrence that
  // starts last, the best partner of every other part is its occurrence with the latest
  // end among those starting no later.
  bool ConfirmNear(const CompiledRule& rule, const std::vector<int>& slots, Evidence& ev,
                   std::string& reason) {
    const size_t parts = rule.parts.size();
    long best_gap = std::numeric_limits<long>::max();
    int rejected = 0;
    for (int slot : slots) {
      struct Item {
        uint32_t begin_char, end_char;
        size_t part;
        PartOccurrence po;
      };
      std::vector<Item> items;
      bool all_present = true;
      const std::string_view text = s_.text[slot].text;
      for (size_t part = 0; part < parts && all_present; ++part) {
        std::vector<PartOccurrence> occ = PartOccurrences(rule, part, slot, rejected);
        all_present = !occ.empty();
        for (const PartOccurrence& po : occ) {
          items.push_back({CountChars(text, po.occ.begin), CountChars(text, po.occ.end), part, po});
        }
      }
      if (!all_present) continue;
      std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.begin_char < b.begin_char; });
      std::vector<int> best(parts, -1);  // per part: item index with the latest end so far
      for (size_t i = 0; i < items.size(); ++i) {
        int& slot_best = best[items[i].part];
        if (slot_best < 0 || items[size_t(slot_best)].end_char < items[i].end_char) slot_best = int(i);
        if (std::find(best.begin(), best.end(), -1) != best.end()) continue;
        uint32_t min_end = std::numeric_limits<uint32_t>::max();
        for (int b : best) min_end = std::min(min_end, items[size_t(b)].end_char);
        const long gap = std::max(0L, long(items[i].begin_char) - long(min_end));
        best_gap = std::min(best_gap, gap);
        if (gap <= rule.def.near) {
          for (size_t part = 0; part < parts; ++part) AddSpan(ev, rule, part, slot, items[size_t(best[part])].po);
          if (options_.explain) {
            ev.notes.push_back(fmt::format("parts within {} characters (near: {})", gap, rule.def.near));
          }
          return true;
        }
      }
    }
    if (best_gap != std::numeric_limits<long>::max()) {
      reason = fmt::format("parts matched but at best {} characters apart (near: {})", best_gap, rule.def.near);
    } else if (rejected > 0) {
      reason = fmt::format("validator {} rejected {} candidate value(s)", ValidatorName(*rule.def.validate), rejected);
    } else {
      reason = "the parts did not all confirm in one field";
    }
    return false;
  }

  void Render() {
    std::array<std::vector<MaskRange>, kFieldCount> masks;
    for (const Evidence& ev : evidence_) {
      const CompiledRule& rule = set_.rules()[ev.rule];
      if (!rule.def.mask) continue;
      for (const Span& span : ev.spans) {
        masks[size_t(s_.slot_of_field[static_cast<int>(span.field)])].push_back(
            {span.begin, span.end, rule.def.validate});
      }
    }
    for (Evidence& ev : evidence_) {
      const CompiledRule& rule = set_.rules()[ev.rule];
      Hit hit;
      hit.rule = &rule;
      hit.spans = std::move(ev.spans);
      hit.sentiment = ev.sentiment;
      if (ev.excerpt_slot >= 0) {
        hit.excerpt_field = fields_[ev.excerpt_slot].field;
        hit.excerpt = RenderExcerpt(fields_[ev.excerpt_slot].text, ev.excerpt_begin, ev.excerpt_end,
                                    masks[size_t(ev.excerpt_slot)]);
      }
      if (options_.explain) {
        hit.explanation = std::move(ev.notes);
        for (size_t i = 0; i < hit.spans.size(); ++i) {
          const Span& span = hit.spans[i];
          const int slot = s_.slot_of_field[static_cast<int>(span.field)];
          std::vector<MaskRange> own = masks[size_t(slot)];
          if (rule.def.mask) own.push_back({span.begin, span.end, rule.def.validate});
          hit.explanation.push_back(fmt::format(
              "text at {}:{}-{}: {}", FieldName(span.field), span.begin, span.end,
              RenderExcerpt(fields_[slot].text, span.begin, span.end, own, 0, 160, /*ellipses=*/false)));
        }
      }
      out_.hits.push_back(std::move(hit));
    }
  }

  const RuleSet& set_;
  std::span<const FieldText> fields_;
  MatchScratch::State& s_;
  MatchResult& out_;
  const MatchOptions& options_;
  std::vector<Evidence> evidence_;
  FieldMask present_ = 0;  // the fields this post has
};

Status MatchPost(const RuleSet& rules, std::span<const FieldText> fields, MatchScratch& scratch,
                 MatchResult& out, const MatchOptions& options) {
  MatchRun run(rules, fields, scratch, out, options);
  return run.Run();
}

}  // namespace vigil::rules
