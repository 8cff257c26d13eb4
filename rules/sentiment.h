// Lexicon-based sentiment scoring for English (VADER's rules and lexicon) and Chinese
// (the project's own crisis lexicon with negators and degree adverbs).
//
// Thread safety: a SentimentScorer is immutable after construction and shareable;
// Score() keeps its state on the stack or in the caller's SentimentScratch.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vigil::rules {

// One term that contributed to a score, for `--explain`.
struct SentimentTerm {
  std::string term;   // as it appears in the normalised text
  uint32_t begin = 0; // byte offsets into the normalised text
  uint32_t end = 0;
  double valence = 0; // after negation, intensifiers and "but" weighting
};

struct SentimentScore {
  double compound = 0;  // VADER's normalised compound score in [-1, 1]; 0 with no terms
  std::vector<SentimentTerm> terms;  // filled only when asked to explain
};

class SentimentScorer {
 public:
  // The built-in lexicons: VADER (embedded at build time from its npm package) and
  // rules/lexicons/zh_crisis.tsv (embedded at build time).
  static Result<std::shared_ptr<const SentimentScorer>> Builtin();

  // Lexicons in VADER's format: "term<TAB>mean valence<TAB>...", one per line; '#' lines
  // and blank lines ignored. Errors name the source and line.
  static Result<std::shared_ptr<const SentimentScorer>> FromText(std::string_view english,
                                                                 std::string_view english_source,
                                                                 std::string_view chinese,
                                                                 std::string_view chinese_source);

  ~SentimentScorer();

  // Scores normalised text (lower case, NFKC). English follows VADER: lexicon valence,
  // boosters/dampeners ("very", "slightly"), negation within the three preceding words
  // (valence * -0.74), "but" shifting weight to the clause after it, "!" emphasis,
  // compound = sum / sqrt(sum^2 + 15). Upper-case emphasis is not used: the text is case
  // folded before matching. Chinese: longest-match lexicon lookup, a negator (不 没 没有
  // 别 未 并非 ...) within the three preceding tokens flips and damps the valence, degree
  // adverbs (极其 非常 很 有点 ...) scale it. Both languages add into one compound score.
  SentimentScore Score(std::string_view normalised_text, bool explain = false) const;

 private:
  struct Lexicon;
  explicit SentimentScorer(std::unique_ptr<const Lexicon> lexicon);
  std::unique_ptr<const Lexicon> lexicon_;
};

}  // namespace vigil::rules
