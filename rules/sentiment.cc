// Sentiment scorer; the contract is in sentiment.h.
//
// One table holds every term of both lexicons: VADER's words and emoticons, VADER's
// negators, boosters and "but" (from its source, vaderSentiment.js), and the entries of
// zh_crisis.tsv. It is open-addressed, keyed by the term's bytes, so a token costs one
// probe. Chinese has no spaces, so for each CJK character a 64K-entry table says which
// term lengths (1..8 characters) start with it; most characters start none, and the rest
// need a probe per length, longest first.
//
// A 64K-bit filter on the first two characters spares most of those probes.
//
// Score() streams tokens through a ring of eight: VADER looks three tokens back and two
// ahead (idioms, "kind of"), never further, so nothing is allocated unless terms are to
// be explained. VADER's but-rule needs only the sums before and after the first "but".
//
// English follows the JS port in vader-sentiment@1.1.3 rule for rule, including its
// quirks: a negator or booster counts only when it is not itself a lexicon word, a "so"
// or "this" right before a word multiplies it by 1.25, and only the first "but" counts.
// Where this file differs on purpose:
//   - punctuation is stripped from both ends of a token ("good!!!!", "(good)"), where
//     VADER strips only one of its PUNC_LIST strings;
//   - the text is case folded, so ALL-CAPS emphasis never applies.
// Chinese words use Chinese rules, which VADER leaves to us: the look-back stops at
// punctuation, at white space, at "but" and at another sentiment word, because a Chinese
// token is often one character and three of them rarely reach past the word they belong
// to. Degree adverbs multiply; a degree adverb between a negator and its word is inverted
// (不是很差 is "not very bad": less negative, then flipped) while one before the negator
// scales the negated word (很不好).
#include "rules/sentiment.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vigil::rules {

extern const std::string_view kVaderLexicon;
extern const std::string_view kChineseCrisisLexicon;

namespace {

constexpr double kBoostIncrease = 0.293;   // VADER's B_INCR
constexpr double kBoostDecrease = -0.293;  // VADER's B_DECR
constexpr double kNegation = -0.74;        // VADER's N_SCALAR
constexpr int kMaxChineseTermChars = 8;
constexpr double kMaxValence = 4;  // lexicon valences lie in [-4, 4], as VADER's
constexpr double kMaxScale = 4;    // degree adverbs scale by at most this

// VADER's NEGATE list; any token containing "n't" is a negator as well.
constexpr std::string_view kEnglishNegators[] = {
    "aint",   "arent",    "cannot",  "cant",     "couldnt",  "darent",   "didnt",   "doesnt",
    "ain't",  "aren't",   "can't",   "couldn't", "daren't",  "didn't",   "doesn't", "dont",
    "hadnt",  "hasnt",    "havent",  "isnt",     "mightnt",  "mustnt",   "neither", "don't",
    "hadn't", "hasn't",   "haven't", "isn't",    "mightn't", "mustn't",  "neednt",  "needn't",
    "never",  "none",     "nope",    "nor",      "not",      "nothing",  "nowhere", "oughtnt",
    "shant",  "shouldnt", "uhuh",    "wasnt",    "werent",   "oughtn't", "shan't",  "shouldn't",
    "uh-uh",  "wasn't",   "weren't", "without",  "wont",     "wouldnt",  "won't",   "wouldn't",
    "rarely", "seldom",   "despite"};

// VADER's BOOSTER_DICT minus its two-word entries, which idioms handle.
constexpr std::string_view kEnglishBoosters[] = {
    "absolutely",   "amazingly",     "awfully",    "completely", "considerably", "decidedly",
    "deeply",       "effing",        "enormously", "entirely",   "especially",   "exceptionally",
    "extremely",    "fabulously",    "flipping",   "flippin",    "fricking",     "frickin",
    "frigging",     "friggin",       "fully",      "fucking",    "greatly",      "hella",
    "highly",       "hugely",        "incredibly", "intensely",  "majorly",      "more",
    "most",         "particularly",  "purely",     "quite",      "really",       "remarkably",
    "so",           "substantially", "thoroughly", "totally",    "tremendously", "uber",
    "unbelievably", "unusually",     "utterly",    "very"};
constexpr std::string_view kEnglishDampeners[] = {
    "almost",   "barely",   "hardly",     "kinda",        "kindof", "kind-of",
    "less",     "little",   "marginally", "occasionally", "partly", "scarcely",
    "slightly", "somewhat", "sorta",      "sortof",       "sort-of"};

// A phrase of up to three words, matched token by token.
struct Phrase {
  std::array<std::string_view, 3> words;
  int size;
  double valence;
};
constexpr Phrase kIdioms[] = {{{"the", "shit"}, 2, 3},           {{"the", "bomb"}, 2, 3},
                              {{"bad", "ass"}, 2, 1.5},          {{"yeah", "right"}, 2, -2},
                              {{"cut", "the", "mustard"}, 3, 2}, {{"kiss", "of", "death"}, 3, -1.5},
                              {{"hand", "to", "mouth"}, 3, -2}};
// VADER's two-word boosters, all of them dampeners.
constexpr Phrase kTwoWordDampeners[] = {
    {{"just", "enough"}, 2, 0}, {{"kind", "of"}, 2, 0}, {{"sort", "of"}, 2, 0}};

enum TermFlag : uint8_t {
  kValence = 1,  // a sentiment word (non-zero valence)
  kBooster = 2,  // English booster or dampener; `scale` is added to the valence
  kNegator = 4,
  kDegree = 8,  // Chinese degree adverb; `scale` multiplies the valence
  kBut = 16,
  kChineseRules = 32,  // defined by the Chinese lexicon: scored with the Chinese rules
  kPhraseStart = 64    // the first word of an idiom or a two-word dampener
};

struct TermInfo {
  double valence = 0;
  double scale = 0;
  uint8_t flags = 0;
};

uint64_t Load(const char* p, size_t n) {  // REQUIRES: n <= 8
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
}

uint64_t HashBytes(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    h = (h ^ Load(p + i, 8)) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  }
  // The last 0..7 bytes as two overlapping loads of fixed size, which compile to moves.
  const size_t left = n - i;
  uint64_t w = 0;
  if (left >= 4) {
    w = Load(p + i, 4) | Load(p + n - 4, 4) << 32;
  } else if (left > 0) {
    w = static_cast<unsigned char>(p[i]) | static_cast<unsigned char>(p[i + left / 2]) << 8 |
        static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16;
  }
  h = (h ^ w) * 0x94d049bb133111ebull;
  return h ^ (h >> 29);
}

// Decodes the code point at text[pos]; invalid bytes decode as U+FFFD of length 1.
[[gnu::always_inline]] inline size_t DecodeUtf8(std::string_view text, size_t pos, char32_t& cp) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char c = b(0);
  const size_t left = text.size() - pos;
  if (c < 0x80) return cp = c, 1;
  const auto cont = [&](size_t i) { return i < left && (b(i) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c < 0xE0 && cont(1)) return cp = ((c & 0x1Fu) << 6) | (b(1) & 0x3Fu), 2;
  if (c >= 0xE0 && c < 0xF0 && cont(1) && cont(2)) {
    cp = ((c & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return 3;
  } else if (c >= 0xF0 && c < 0xF5 && cont(1) && cont(2) && cont(3)) {
    cp = ((c & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return 4;
  }
  return cp = 0xFFFD, 1;
}

// Han, kana, Hangul, CJK punctuation and full-width forms: text that has no spaces.
[[gnu::always_inline]] inline bool IsCjk(char32_t cp) {
  if (cp >= 0x4E00 && cp <= 0x9FFF) return true;  // the common case: unified ideographs
  return (cp >= 0x2E80 && cp <= 0x4DBF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
         (cp >= 0xFF00 && cp <= 0xFFEF) || (cp >= 0x1B000 && cp <= 0x1B16F) ||
         (cp >= 0x20000 && cp <= 0x3FFFF);
}

[[gnu::always_inline]] inline bool IsCjkPunctuation(char32_t cp) {
  if (cp < 0x3000 || (cp > 0x303F && cp < 0xFE30)) return cp == 0x30FB;
  if (cp <= 0x303F) {
    return !(cp == 0x3005 || cp == 0x3007 || (cp >= 0x3021 && cp <= 0x3029) ||
             (cp >= 0x3038 && cp <= 0x303B));
  }
  return (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF01 && cp <= 0xFF0F) ||
         (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
         (cp >= 0xFF5B && cp <= 0xFF65);
}

bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool IsAsciiPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

// Open-addressed hash table from term bytes to TermInfo; immutable once built.
class TermTable {
 public:
  void Build(const std::unordered_map<std::string, TermInfo>& terms) {
    size_t capacity = 16;
    while (capacity < terms.size() * 2) capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    infos_.reserve(terms.size());
    for (const auto& [key, info] : terms) {
      const uint64_t hash = HashBytes(key);
      size_t i = hash & mask_;
      while (slots_[i].size != 0) i = (i + 1) & mask_;
      slots_[i] = Slot{static_cast<uint32_t>(hash >> 32), static_cast<uint32_t>(keys_.size()),
                       static_cast<uint32_t>(key.size()), static_cast<uint32_t>(infos_.size())};
      keys_ += key;
      infos_.push_back(info);
    }
  }

  const TermInfo* Find(std::string_view key) const {
    if (key.empty()) return nullptr;
    const uint64_t hash = HashBytes(key);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.size == 0) return nullptr;
      if (slot.hash != static_cast<uint32_t>(hash >> 32) || slot.size != key.size()) continue;
      const char* stored = keys_.data() + slot.begin;
      size_t same = 0;  // terms are short: a loop beats a call to memcmp
      while (same < key.size() && stored[same] == key[same]) ++same;
      if (same == key.size()) return &infos_[slot.info];
    }
  }

 private:
  // 16 bytes, so that the table of VADER's 7,500 terms and ours stays in L2.
  struct Slot {
    uint32_t hash = 0;  // the high half; the low half picked the slot
    uint32_t begin = 0;
    uint32_t size = 0;  // 0: empty slot
    uint32_t info = 0;
  };
  std::string keys_;
  std::vector<Slot> slots_;
  std::vector<TermInfo> infos_;
  size_t mask_ = 0;
};

struct Token {
  std::string_view text;
  uint32_t begin = 0;
  const TermInfo* info = nullptr;
  bool cjk = false;  // from a run of CJK text
  bool negator = false;
  bool punct_before = false;  // punctuation separates it from the previous token
  bool space_before = false;  // white space separates it from the previous token
  bool boundary = false;      // a token of punctuation only ("!!!", "--")
  // Set when the token is scored, for the tokens after it to look back at.
  bool is_word = false;    // it carried valence
  bool is_degree = false;  // it acted as a Chinese degree adverb

  uint8_t flags() const { return info ? info->flags : 0; }
  bool HasValence() const { return (flags() & (kValence | kBooster)) == kValence; }
};

uint32_t PairBit(char32_t first, char32_t second) {
  return ((first * 0x9e3779b1u) ^ second) * 0x85ebca6bu >> 16;
}

struct Tables {
  // What a CJK character starts: bit n-1 of `lengths` is set when a term of n characters
  // starts with it; `single` indexes `singles` when the character is a term itself.
  struct FirstChar {
    uint8_t lengths = 0;
    uint16_t single = 0;  // 0: none
  };

  TermTable terms;
  std::vector<FirstChar> bmp_first = std::vector<FirstChar>(0x10000);
  std::unordered_map<char32_t, FirstChar> astral_first;
  std::vector<const TermInfo*> singles = {nullptr};
  // A 64K-bit filter of the first two characters of CJK terms: most characters start a
  // term, few pairs do, and a clear bit saves the probes for every longer length.
  std::vector<uint64_t> first_pairs = std::vector<uint64_t>(0x10000 / 64, 0);

  FirstChar First(char32_t cp) const {
    if (cp < 0x10000) return bmp_first[cp];
    const auto it = astral_first.find(cp);
    return it == astral_first.end() ? FirstChar{} : it->second;
  }
  bool MayStartTerm(char32_t first, char32_t second) const {
    const uint32_t bit = PairBit(first, second);
    return (first_pairs[bit / 64] >> (bit % 64)) & 1;
  }
};

// Splits normalised text into tokens: runs of non-CJK text on white space (with
// punctuation stripped from the ends), CJK text by longest match against the lexicon.
// Counts '!' and '?' on the way, for VADER's punctuation emphasis.
class Tokenizer {
 public:
  Tokenizer(std::string_view text, const Tables& lexicon) : text_(text), lexicon_(lexicon) {}

  bool Next(Token& token) {
    while (pos_ < text_.size()) {
      if (IsSpace(text_[pos_])) {
        pending_space_ = true;
        ++pos_;
        continue;
      }
      char32_t cp;
      const size_t n = DecodeUtf8(text_, pos_, cp);
      if (!IsCjk(cp)) {
        if (NonCjkWord(token)) return true;
        continue;
      }
      if (IsCjkPunctuation(cp)) {
        exclamations_ += cp == 0xFF01;
        questions_ += cp == 0xFF1F;
        pending_punct_ = true;
        pos_ += n;
        continue;
      }
      CjkWord(token, cp, n);
      return true;
    }
    return false;
  }

  int exclamations() const { return exclamations_; }
  int questions() const { return questions_; }

 private:
  // Reads the white-space delimited word at pos_ (it ends early at CJK text). Returns
  // false when the word yields no token: a lone character, as in VADER.
  bool NonCjkWord(Token& token) {
    const size_t begin = pos_;
    size_t chars = 0;
    while (pos_ < text_.size() && !IsSpace(text_[pos_])) {
      const char c = text_[pos_];
      if (static_cast<unsigned char>(c) < 0x80) {
        exclamations_ += c == '!';
        questions_ += c == '?';
        ++pos_;
      } else {
        char32_t cp;
        const size_t n = DecodeUtf8(text_, pos_, cp);
        if (IsCjk(cp)) break;
        pos_ += n;
      }
      ++chars;
    }
    const std::string_view raw = text_.substr(begin, pos_ - begin);
    if (chars == 1) {
      if (IsAsciiPunct(raw[0])) pending_punct_ = true;
      return false;
    }
    size_t b = 0, e = raw.size();
    while (b < e && IsAsciiPunct(raw[b])) ++b;
    while (e > b && IsAsciiPunct(raw[e - 1])) --e;
    // Emoticons are lexicon entries made of punctuation: look the raw word up first.
    const TermInfo* raw_info = lexicon_.terms.Find(raw);
    if (e - b == raw.size() || (raw_info && (raw_info->flags & kValence))) {
      Emit(token, raw, begin, raw_info, false);
      MarkNegation(token);
      return true;
    }
    if (b == e) {
      Emit(token, raw, begin, nullptr, false);
      token.boundary = true;
      pending_punct_ = true;
      return true;
    }
    if (b > 0) pending_punct_ = true;
    const std::string_view word = raw.substr(b, e - b);
    Emit(token, word, begin + b, lexicon_.terms.Find(word), false);
    MarkNegation(token);
    pending_punct_ = e < raw.size();
    return true;
  }

  // VADER counts any word containing "n't" as a negator.
  static void MarkNegation(Token& token) {
    const std::string_view word = token.text;
    for (size_t i = 1; i + 1 < word.size() && !token.negator; ++i) {
      token.negator = word[i] == '\'' && word[i - 1] == 'n' && word[i + 1] == 't';
    }
  }

  // Longest match at pos_, which holds the CJK character cp of n bytes.
  void CjkWord(Token& token, char32_t cp, size_t n) {
    const size_t begin = pos_;
    const Tables::FirstChar first = lexicon_.First(cp);
    const uint8_t lengths = first.lengths;
    size_t end = begin + n;
    const TermInfo* info = nullptr;
    if (lengths > 1) {
      // ends[k]: the end of k + 1 characters from begin, while they are CJK characters.
      std::array<size_t, kMaxChineseTermChars> ends;  // NOLINT: filled before use
      ends[0] = end;
      const int wanted = std::bit_width(lengths);
      int have = 1;
      for (size_t p = end; have < wanted && p < text_.size(); ++have) {
        char32_t next;
        const size_t m = DecodeUtf8(text_, p, next);
        if (!IsCjk(next) || IsCjkPunctuation(next)) break;
        if (have == 1 && !lexicon_.MayStartTerm(cp, next)) break;
        p += m;
        ends[have] = p;
      }
      for (int k = have; k >= 2 && !info; --k) {
        if (lengths & (1u << (k - 1))) {
          info = lexicon_.terms.Find(text_.substr(begin, ends[k - 1] - begin));
          if (info) end = ends[k - 1];
        }
      }
    }
    if (!info) info = lexicon_.singles[first.single];
    Emit(token, text_.substr(begin, end - begin), begin, info, true);
    pos_ = end;
  }

  void Emit(Token& token, std::string_view text, size_t begin, const TermInfo* info, bool cjk) {
    // Field by field: `token = Token{}` costs a fifth of the English path.
    token.text = text;
    token.begin = static_cast<uint32_t>(begin);
    token.info = info;
    token.cjk = cjk;
    token.negator = info && (info->flags & kNegator);
    token.punct_before = pending_punct_;
    token.space_before = pending_space_;
    token.boundary = token.is_word = token.is_degree = false;
    pending_punct_ = pending_space_ = false;
  }

  std::string_view text_;
  const Tables& lexicon_;
  size_t pos_ = 0;
  bool pending_punct_ = false;
  bool pending_space_ = false;
  int exclamations_ = 0;
  int questions_ = 0;
};

// The token being scored and its neighbours: up to three behind and two ahead.
class Window {
 public:
  static constexpr size_t kSize = 8;
  Window(std::array<Token, kSize>& ring, size_t current, size_t produced)
      : ring_(ring), current_(current), produced_(produced) {}

  Token& Current() { return ring_[current_ % kSize]; }
  // REQUIRES: -3 <= offset <= 2 (the ring keeps no more).
  const Token* At(int offset) const {
    const auto index = static_cast<ptrdiff_t>(current_) + offset;
    if (index < 0 || index >= static_cast<ptrdiff_t>(produced_)) return nullptr;
    return &ring_[static_cast<size_t>(index) % kSize];
  }
  std::string_view Text(int offset) const {
    const Token* t = At(offset);
    return t ? t->text : std::string_view();
  }
  bool Negated(int offset) const {
    const Token* t = At(offset);
    return t && t->negator;
  }
  bool InLexicon(int offset) const {
    const Token* t = At(offset);
    return t && (t->flags() & kValence);
  }
  // Whether the `size` tokens from `from` on are the first `size` words of `phrase`.
  bool Reads(int from, int size, const Phrase& phrase) const {
    const Token* first = At(from);
    if (size != phrase.size || !first || !(first->flags() & kPhraseStart)) return false;
    for (int i = 0; i < size; ++i) {
      const Token* t = At(from + i);
      if (!t || t->text != phrase.words[i]) return false;
    }
    return true;
  }

 private:
  std::array<Token, kSize>& ring_;
  size_t current_;
  size_t produced_;
};

bool IsSoOrThis(std::string_view word) { return word == "so" || word == "this"; }

// VADER's never_check for the look-back step `step` (0..2).
double NeverCheck(double valence, const Window& w, int step) {
  if (step == 0) return w.Negated(-1) ? valence * kNegation : valence;
  if (step == 1) {
    if (w.Text(-2) == "never" && IsSoOrThis(w.Text(-1))) return valence * 1.5;
    return w.Negated(-2) ? valence * kNegation : valence;
  }
  // VADER's own precedence: "so"/"this" right before the word counts without "never".
  if ((w.Text(-3) == "never" && IsSoOrThis(w.Text(-2))) || IsSoOrThis(w.Text(-1))) {
    return valence * 1.25;
  }
  return w.Negated(-3) ? valence * kNegation : valence;
}

// VADER's idioms_check, including its two-word dampeners ("kind of").
double IdiomsCheck(double valence, const Window& w) {
  // The word sequences VADER tries, as (first offset, length), in its order.
  constexpr std::pair<int, int> kBefore[] = {{-1, 2}, {-2, 3}, {-2, 2}, {-3, 3}, {-3, 2}};
  const auto idiom = [&](int from, int size) -> const Phrase* {
    const Token* first = w.At(from);
    if (!first || !(first->flags() & kPhraseStart)) return nullptr;
    for (const Phrase& phrase : kIdioms) {
      if (w.Reads(from, size, phrase)) return &phrase;
    }
    return nullptr;
  };
  for (const auto& [from, size] : kBefore) {
    if (const Phrase* found = idiom(from, size)) {
      valence = found->valence;
      break;
    }
  }
  for (const int size : {2, 3}) {
    if (const Phrase* found = idiom(0, size)) valence = found->valence;
  }
  for (const Phrase& dampener : kTwoWordDampeners) {
    if (w.Reads(-3, 2, dampener) || w.Reads(-2, 2, dampener)) return valence + kBoostDecrease;
  }
  return valence;
}

double EnglishValence(const Window& w, double valence) {
  for (int step = 0; step < 3 && w.At(-(step + 1)); ++step) {
    if (w.InLexicon(-(step + 1))) continue;
    const Token& before = *w.At(-(step + 1));
    if (before.flags() & kBooster) {
      double scalar = valence < 0 ? -before.info->scale : before.info->scale;
      if (step == 1) scalar *= 0.95;
      if (step == 2) scalar *= 0.9;
      valence += scalar;
    }
    valence = NeverCheck(valence, w, step);
    if (step == 2) valence = IdiomsCheck(valence, w);
  }
  if (w.Text(-1) == "least" && !w.InLexicon(-1)) {
    if (!w.At(-2) || (w.Text(-2) != "at" && w.Text(-2) != "very")) valence *= kNegation;
  }
  return valence;
}

double ChineseValence(const Window& w, double valence, bool cjk) {
  double inner = 1, outer = 1;  // degree adverbs nearer and further than the first negator
  int negations = 0;
  for (int step = 1; step <= 3; ++step) {
    const Token* after = w.At(1 - step);
    if (after->punct_before || (after->space_before && cjk)) break;
    const Token* before = w.At(-step);
    if (!before || before->boundary || before->is_word || (before->flags() & kBut)) break;
    if (before->negator) {
      ++negations;
    } else if (before->is_degree) {
      (negations > 0 ? outer : inner) *= before->info->scale;
    }
  }
  if (negations == 0) return valence * inner * outer;
  double negation = 1;
  for (int i = 0; i < negations; ++i) negation *= kNegation;
  return valence / inner * outer * negation;
}

// Whether a degree adverb that is also a word (好) modifies what follows: a sentiment word
// right after it, or a negator and then one.
bool ActsAsDegree(const Window& w) {
  const auto joined = [&](int offset) {
    const Token* t = w.At(offset);
    return t && !t->punct_before && !t->space_before ? t : nullptr;
  };
  const Token* next = joined(1);
  if (!next) return false;
  if (next->HasValence()) return true;
  const Token* after = next->negator ? joined(2) : nullptr;
  return after && after->HasValence();
}

// The valence the current token contributes before the but-rule; records its role.
double ScoreToken(Window& w) {
  Token& token = w.Current();
  const uint8_t flags = token.flags();
  if (flags & kBooster) return 0;
  if ((flags & kDegree) && (!(flags & kValence) || ActsAsDegree(w))) {
    token.is_degree = true;
    return 0;
  }
  if (!(flags & kValence)) return 0;
  token.is_word = true;
  if (flags & kChineseRules) return ChineseValence(w, token.info->valence, token.cjk);
  if (token.text == "kind" && w.Text(1) == "of") return 0;
  return EnglishValence(w, token.info->valence);
}

Error LineError(std::string_view source, int line, std::string message) {
  return Error{std::move(message), Location{std::string(source), line, 0}};
}

// Calls fn(line_number, fields) for each line that is not blank or a '#' comment.
template <typename Fn>
std::optional<Error> ForEachLine(std::string_view text, Fn&& fn) {
  int number = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    std::array<std::string_view, 5> fields{};
    size_t count = 0;
    for (size_t start = 0;; ++count) {
      const size_t tab = line.find('\t', start);
      if (count < fields.size()) fields[count] = line.substr(start, tab - start);
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (auto error = fn(number, fields, count + 1)) return error;
  }
  return std::nullopt;
}

std::optional<double> ParseNumber(std::string_view field) {
  double value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || end != field.data() + field.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// Checks a Chinese-lexicon term: all CJK characters (at most kMaxChineseTermChars), or a
// whole non-CJK word of two characters or more. Returns the problem, or "".
std::string CheckChineseTerm(std::string_view term) {
  int cjk = 0, other = 0;
  for (size_t pos = 0; pos < term.size();) {
    char32_t cp;
    const size_t n = DecodeUtf8(term, pos, cp);
    if (cp == 0xFFFD && n == 1) return "term is not valid UTF-8";
    if (IsSpace(term[pos])) return "term contains white space";
    if (IsCjk(cp) && IsCjkPunctuation(cp)) return "term contains CJK punctuation";
    (IsCjk(cp) ? cjk : other) += 1;
    pos += n;
  }
  if (cjk > 0 && other > 0) return "term mixes CJK and other characters and can never match";
  if (cjk > kMaxChineseTermChars) return "term is longer than 8 characters";
  if (other == 1) return "a one-character non-CJK term can never match";
  return "";
}

}  // namespace

// Lexicon is private to SentimentScorer, so the helpers above work on Tables.
struct SentimentScorer::Lexicon : Tables {};

SentimentScorer::SentimentScorer(std::unique_ptr<const Lexicon> lexicon)
    : lexicon_(std::move(lexicon)) {}

SentimentScorer::~SentimentScorer() = default;

Result<std::shared_ptr<const SentimentScorer>> SentimentScorer::Builtin() {
  static const Result<std::shared_ptr<const SentimentScorer>> builtin =
      FromText(kVaderLexicon, "vader_lexicon.txt (vader-sentiment@1.1.3)", kChineseCrisisLexicon,
               "rules/lexicons/zh_crisis.tsv");
  return builtin;
}

Result<std::shared_ptr<const SentimentScorer>> SentimentScorer::FromText(
    std::string_view english, std::string_view english_source, std::string_view chinese,
    std::string_view chinese_source) {
  std::unordered_map<std::string, TermInfo> terms;
  for (const std::string_view word : kEnglishNegators) terms[std::string(word)].flags |= kNegator;
  for (const std::string_view word : kEnglishBoosters) {
    terms[std::string(word)] = TermInfo{0, kBoostIncrease, kBooster};
  }
  for (const std::string_view word : kEnglishDampeners) {
    terms[std::string(word)] = TermInfo{0, kBoostDecrease, kBooster};
  }
  terms["but"].flags |= kBut;
  for (const Phrase& phrase : kIdioms) terms[std::string(phrase.words[0])].flags |= kPhraseStart;
  for (const Phrase& phrase : kTwoWordDampeners) {
    terms[std::string(phrase.words[0])].flags |= kPhraseStart;
  }

  // English: VADER's format. A repeated term takes its last valence, as in VADER.
  auto error =
      ForEachLine(english, [&](int line, const auto& fields, size_t count) -> std::optional<Error> {
        if (count < 2 || fields[0].empty()) {
          return LineError(english_source, line, "expected term<TAB>valence<TAB>...");
        }
        const std::optional<double> valence = ParseNumber(fields[1]);
        if (!valence || std::abs(*valence) > kMaxValence) {
          return LineError(english_source, line,
                           "valence '" + std::string(fields[1]) + "' is not a number in [-4, 4]");
        }
        TermInfo& info = terms[std::string(fields[0])];
        info.valence = *valence;
        info.flags = *valence != 0 ? (info.flags | kValence) : (info.flags & ~kValence);
        return std::nullopt;
      });
  if (error) return *std::move(error);

  // Chinese: term, valence, type[, scale]. Its entries replace English ones of the same
  // spelling (yyds, 666 are not VADER's).
  std::unordered_map<std::string, int> chinese_lines;
  error =
      ForEachLine(chinese, [&](int line, const auto& fields, size_t count) -> std::optional<Error> {
        const auto fail = [&](std::string message) {
          return std::optional<Error>(LineError(chinese_source, line, std::move(message)));
        };
        if (count < 3 || count > 4 || fields[0].empty()) {
          return fail("expected term<TAB>valence<TAB>word|negator|degree|but[<TAB>scale]");
        }
        const std::string term(fields[0]);
        if (std::string problem = CheckChineseTerm(term); !problem.empty()) {
          return fail(problem + ": '" + term + "'");
        }
        const std::optional<double> valence = ParseNumber(fields[1]);
        if (!valence || std::abs(*valence) > kMaxValence) {
          return fail("valence '" + std::string(fields[1]) + "' is not a number in [-4, 4]");
        }
        TermInfo info{*valence, 0,
                      static_cast<uint8_t>(kChineseRules | (*valence != 0 ? kValence : 0))};
        const std::string_view type = fields[2];
        if (type == "degree") {
          const std::optional<double> scale = count == 4 ? ParseNumber(fields[3]) : std::nullopt;
          if (!scale || *scale <= 0 || *scale > kMaxScale) {
            return fail("a degree adverb needs a scale in (0, 4] in the fourth column");
          }
          info.scale = *scale;
          info.flags |= kDegree;
        } else if (type == "word" || type == "negator" || type == "but") {
          if (count == 4) return fail("only degree adverbs take a scale");
          if (type != "word" && *valence != 0)
            return fail("a " + std::string(type) + " has valence 0");
          if (type == "negator") info.flags |= kNegator;
          if (type == "but") info.flags |= kBut;
        } else {
          return fail("unknown type '" + std::string(type) +
                      "' (expected word, negator, degree or but)");
        }
        if (const auto [it, added] = chinese_lines.emplace(term, line); !added) {
          return fail("'" + term + "' is already defined on line " + std::to_string(it->second));
        }
        terms[term] = info;
        return std::nullopt;
      });
  if (error) return *std::move(error);

  auto lexicon = std::make_unique<Lexicon>();
  lexicon->terms.Build(terms);
  for (const auto& [term, info] : terms) {
    char32_t first;
    DecodeUtf8(term, 0, first);
    if (!IsCjk(first)) continue;
    int chars = 0;
    for (size_t pos = 0; pos < term.size(); ++chars) {
      char32_t cp;
      pos += DecodeUtf8(term, pos, cp);
    }
    if (chars > kMaxChineseTermChars) continue;
    if (chars > 1) {
      char32_t second;
      DecodeUtf8(term, DecodeUtf8(term, 0, second), second);
      const uint32_t pair = PairBit(first, second);
      lexicon->first_pairs[pair / 64] |= uint64_t{1} << (pair % 64);
    }
    Tables::FirstChar& entry =
        first < 0x10000 ? lexicon->bmp_first[first] : lexicon->astral_first[first];
    entry.lengths |= static_cast<uint8_t>(1u << (chars - 1));
    if (chars == 1) {
      if (lexicon->singles.size() > UINT16_MAX) {
        return Error{"more than 65535 one-character terms", Location{std::string(chinese_source)}};
      }
      entry.single = static_cast<uint16_t>(lexicon->singles.size());
      lexicon->singles.push_back(lexicon->terms.Find(term));
    }
  }
  return std::shared_ptr<const SentimentScorer>(new SentimentScorer(std::move(lexicon)));
}

SentimentScore SentimentScorer::Score(std::string_view text, bool explain) const {
  SentimentScore result;
  Tokenizer tokenizer(text, *lexicon_);
  std::array<Token, Window::kSize> ring;
  size_t produced = 0;
  bool exhausted = false;
  double before_but = 0, after_but = 0;
  bool but_seen = false;
  size_t terms_before_but = 0;
  for (size_t current = 0;; ++current) {
    while (!exhausted && produced < current + 3) {
      if (tokenizer.Next(ring[produced % Window::kSize])) {
        ++produced;
      } else {
        exhausted = true;
      }
    }
    if (current == produced) break;
    Window window(ring, current, produced);
    const Token& token = window.Current();
    if (!but_seen && (token.flags() & kBut)) {
      but_seen = true;
      terms_before_but = result.terms.size();
      continue;
    }
    const double valence = ScoreToken(window);
    if (valence == 0) continue;
    (but_seen ? after_but : before_but) += valence;
    if (explain) {
      result.terms.push_back(SentimentTerm{std::string(token.text), token.begin,
                                           static_cast<uint32_t>(token.begin + token.text.size()),
                                           valence});
    }
  }
  if (but_seen) {
    for (size_t i = 0; i < result.terms.size(); ++i) {
      result.terms[i].valence *= i < terms_before_but ? 0.5 : 1.5;
    }
  }
  double sum = but_seen ? before_but * 0.5 + after_but * 1.5 : before_but;
  if (sum == 0) return result;
  // VADER's punctuation emphasis: up to four '!', and two or more '?'.
  const int questions = tokenizer.questions();
  const double emphasis =
      std::min(tokenizer.exclamations(), 4) * 0.292 + (questions <= 1   ? 0
                                                       : questions <= 3 ? questions * 0.18
                                                                        : 0.96);
  sum += sum > 0 ? emphasis : -emphasis;
  result.compound = std::clamp(sum / std::sqrt(sum * sum + 15), -1.0, 1.0);
  return result;
}

}  // namespace vigil::rules
