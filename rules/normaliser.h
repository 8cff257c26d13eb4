// Text normalisation before matching: NFKC, full-width to half-width (part of NFKC),
// Unicode case folding, removal of zero-width and other invisible format characters,
// and (optionally) removal of separators that people insert between CJK characters to
// evade keyword filters: "退 款", "退-款", "退.款", "退​款" all become "退款".
//
// Thread safety: a Normaliser is immutable after construction and may be shared by
// any number of threads; all per-call state lives in the caller's NormalisedText.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::rules {

struct NormaliserOptions {
  // Remove runs of separator characters (white space, punctuation such as - _ . * · / |,
  // and their full-width forms) that stand between two CJK characters (Han, kana,
  // Hangul, CJK punctuation excluded). Separators elsewhere are kept as they are.
  bool strip_cjk_separators = true;
};

// The output of one normalisation. Reused across calls to avoid allocation: Normalise
// clears and refills it, keeping its capacity.
struct NormalisedText {
  std::string text;  // valid UTF-8, normalised

  // Filled only when Normalise is asked for offsets. For each byte i of `text`:
  // [source_begin[i], source_end[i]) is the byte range of the original character(s)
  // that produced it (a character that expands, like "ﬁ" -> "fi", gives each output byte
  // the whole source range; a character composed of several source characters, like
  // "e" + U+0301 -> "é", gives the range of all of them).
  std::vector<uint32_t> source_begin;
  std::vector<uint32_t> source_end;

  // Maps a byte range [begin, end) of `text` (begin < end) to the byte range of the
  // original text it came from. REQUIRES: offsets were requested.
  std::pair<uint32_t, uint32_t> ToOriginal(uint32_t begin, uint32_t end) const {
    return {source_begin[begin], source_end[end - 1]};
  }
};

class Normaliser {
 public:
  explicit Normaliser(NormaliserOptions options = {});
  ~Normaliser();
  Normaliser(const Normaliser&) = delete;
  Normaliser& operator=(const Normaliser&) = delete;

  // Normalises `input` into `out`. Returns false (and leaves `out.text` empty) when
  // `input` is not valid UTF-8 (overlong forms, surrogates, truncated sequences and
  // code points above U+10FFFF are invalid). With `with_offsets`, also fills the
  // source ranges. The hot path calls it without offsets; offsets are computed again
  // only for the rare field in which a rule fired.
  bool Normalise(std::string_view input, NormalisedText& out, bool with_offsets = false) const;

  // Convenience for rule literals and tests: the normalised form, or "" if invalid.
  std::string Normalise(std::string_view input) const;

  const NormaliserOptions& options() const { return options_; }

 private:
  struct Tables;
  NormaliserOptions options_;
  std::unique_ptr<const Tables> tables_;
};

// True when `input` is valid UTF-8 (same definition as Normalise uses).
bool IsValidUtf8(std::string_view input);

}  // namespace vigil::rules
