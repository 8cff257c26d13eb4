#include "rules/normaliser.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace vigil::rules {
namespace {

std::string U(char32_t cp) {
  utf8proc_uint8_t bytes[4];
  const auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), bytes);
  return std::string(reinterpret_cast<char*>(bytes), static_cast<size_t>(n));
}

std::vector<char32_t> CodePoints(std::string_view s) {
  std::vector<char32_t> cps;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  auto left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp;
    const auto n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) ADD_FAILURE() << "invalid UTF-8 in test helper";
    if (n <= 0) return cps;
    cps.push_back(static_cast<char32_t>(cp));
    p += n;
    left -= n;
  }
  return cps;
}

// Default_Ignorable_Code_Point (DerivedCoreProperties.txt, Unicode 15), kept here
// independently of the implementation's copy.
bool IsDefaultIgnorable(char32_t c) {
  return c == 0xAD || c == 0x34F || c == 0x61C || c == 0x115F || c == 0x1160 || c == 0x17B4 ||
         c == 0x17B5 || (c >= 0x180B && c <= 0x180F) || (c >= 0x200B && c <= 0x200F) ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x206F) || c == 0x3164 ||
         (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF || c == 0xFFA0 ||
         (c >= 0xFFF0 && c <= 0xFFF8) || (c >= 0x1BCA0 && c <= 0x1BCA3) ||
         (c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE0FFF);
}

// The specification: drop Default_Ignorable code points, then utf8proc_NFKC_Casefold over
// the whole string (utf8proc_map, so that NUL bytes are kept).
std::string Reference(std::string_view s) {
  std::string kept;
  for (char32_t cp : CodePoints(s)) {
    if (!IsDefaultIgnorable(cp)) kept += U(cp);
  }
  utf8proc_uint8_t* result = nullptr;
  const auto options = static_cast<utf8proc_option_t>(
      UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(kept.data()),
                              static_cast<utf8proc_ssize_t>(kept.size()), &result, options);
  EXPECT_GE(n, 0) << utf8proc_errmsg(n);
  std::string out = n >= 0 ? std::string(reinterpret_cast<char*>(result), n) : "<error>";
  std::free(result);
  return out;
}

// Code points in hex for failure messages; bytes that are not valid UTF-8 as <NN>.
std::string Hex(std::string_view s) {
  std::string out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  for (auto left = static_cast<utf8proc_ssize_t>(s.size()); left > 0;) {
    utf8proc_int32_t cp;
    const auto n = utf8proc_iterate(p, left, &cp);
    char buf[16];
    std::snprintf(buf, sizeof buf, n > 0 ? "%04X " : "<%02X> ", n > 0 ? cp : *p);
    out += buf;
    p += n > 0 ? n : 1;
    left -= n > 0 ? n : 1;
  }
  return out;
}

// One of each kind, shared by the tests.
const Normaliser& Stripping() {
  static const Normaliser normaliser;
  return normaliser;
}
const Normaliser& Plain() {
  static const Normaliser normaliser(NormaliserOptions{.strip_cjk_separators = false});
  return normaliser;
}

TEST(NormaliserTest, EmptyInput) {
  NormalisedText out;
  out.text = "stale";
  EXPECT_TRUE(Stripping().Normalise("", out, true));
  EXPECT_EQ(out.text, "");
  EXPECT_TRUE(out.source_begin.empty());
  EXPECT_EQ(Stripping().Normalise(""), "");
}

TEST(NormaliserTest, SeparatorsBetweenCjkAreRemoved) {
  for (const char* input :
       {"退 款",    "退-款",  "退 - 款",    "退\u200B款", "退．款",         "退_款",
        "退*款",    "退·款",  "退/款",      "退\\款",     "退|款",          "退~款",
        "退+款",    "退,款",  "退\u3000款", "退\t\n款",   "退 \u200B - 款", "退\u00AD款",
        "退－＿款", "退・款", "退—款",      "退\u00A0款"}) {
    EXPECT_EQ(Stripping().Normalise(input), "退款") << input;
  }
  EXPECT_EQ(Stripping().Normalise("환 불"), "환불");
  EXPECT_EQ(Stripping().Normalise("カ-タ ｶ ナ"), "カタカナ");  // half-width kana widen
  EXPECT_EQ(Stripping().Normalise("退 " + U(0x20000)), "退" + U(0x20000));
  EXPECT_EQ(Stripping().Normalise("退 款 没 到 账"), "退款没到账");
}

TEST(NormaliserTest, SeparatorsElsewhereAreKept) {
  EXPECT_EQ(Stripping().Normalise("refund delay"), "refund delay");
  EXPECT_EQ(Stripping().Normalise("退款 refund"), "退款 refund");
  EXPECT_EQ(Stripping().Normalise("refund 退款"), "refund 退款");
  EXPECT_EQ(Stripping().Normalise("退 "), "退 ");
  EXPECT_EQ(Stripping().Normalise(" 款"), " 款");
  EXPECT_EQ(Stripping().Normalise("退 a 款"), "退 a 款");
  EXPECT_EQ(Stripping().Normalise("退 1 款"), "退 1 款");
  // Ordinary Chinese punctuation is not a separator; nor is sentence punctuation.
  EXPECT_EQ(Stripping().Normalise("退，款"), "退,款");
  EXPECT_EQ(Stripping().Normalise("退。款"), "退。款");
  EXPECT_EQ(Stripping().Normalise("退、款"), "退、款");
  EXPECT_EQ(Stripping().Normalise("退?款"), "退?款");
  // A combining mark on the separator makes it a letter-like segment, not a separator.
  EXPECT_EQ(Stripping().Normalise("退 \u0301款"), "退 \u0301款");
  // Without the option nothing is stripped.
  EXPECT_EQ(Plain().Normalise("退 - 款"), "退 - 款");
  EXPECT_EQ(Plain().Normalise("退\u200B款"), "退款");  // ignorables always go
}

TEST(NormaliserTest, NormalisesLikeNfkcCasefold) {
  const std::pair<std::string, std::string> cases[] = {
      {"ＲＥＦＵＮＤ", "refund"},
      {"Refund DELAY", "refund delay"},
      {"\uFB01le", "file"},
      {"Straße", "strasse"},
      {"ΣΊΣΥΦΟΣ", "σίσυφοσ"},
      {"ПРИВЕТ", "привет"},
      {"e\u0301", "\u00E9"},
      {"E\u0301", "\u00E9"},
      {"\u00C9", "\u00E9"},
      {"a\u200Bb", "ab"},
      {"a\u200B\u0301", "\u00E1"},  // the ignorable does not block composition
      {"\u1100\u1161\u11A8", "\uAC01"},
      {"\uAC00\u11A8", "\uAC01"},
      {"\uFF76\uFF9E", "\u30AC"},
      {"\u304B\u3099", "\u304C"},
      {"\u337F", "株式会社"},
      {"\u2460", "1"},
      {U(0x1D400), "a"},
      {U(0x2F800), "\u4E3D"},
      {"\u2764\uFE0F", "\u2764"},
      {"x" + U(0xE0001) + U(0xE0002) + "y", "xy"},
      {std::string("a\0B", 3), std::string("a\0b", 3)},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(Stripping().Normalise(input), expected) << Hex(input);
    EXPECT_EQ(Reference(input), expected) << Hex(input);
  }
}

TEST(NormaliserTest, RejectsEachKindOfInvalidUtf8) {
  const std::string cases[] = {
      "\x80",              // stray continuation byte
      "ab\xBF",            // stray continuation byte after ASCII
      "\xC0\xAF",          // overlong 2-byte
      "\xC1\xBF",          // overlong 2-byte
      "\xE0\x80\xAF",      // overlong 3-byte
      "\xE0\x9F\xBF",      // overlong 3-byte, largest
      "\xF0\x80\x80\xAF",  // overlong 4-byte
      "\xF0\x8F\xBF\xBF",  // overlong 4-byte, largest
      "\xED\xA0\x80",      // surrogate U+D800
      "\xED\xBF\xBF",      // surrogate U+DFFF
      "\xF4\x90\x80\x80",  // U+110000
      "\xF5\x80\x80\x80",  // lead byte above F4
      "\xFF",              // never valid
      "\xC3",              // truncated 2-byte at the end
      "\xE4\xB8",          // truncated 3-byte at the end
      "\xF0\x9F\x98",      // truncated 4-byte at the end
      "\xE4\xB8"
      "a",              // truncated 3-byte before ASCII
      "\xC3\xC3\xA9",   // lead byte where a continuation is needed
      "e\xCC\x81\xCC",  // truncated inside a combining sequence
      "e\xCC\x81\xFF",  // invalid inside a combining sequence
      std::string(100, 'a') + "\x80" + std::string(100, 'b'),  // inside long ASCII
      "退款\xE6\xAC",                                          // truncated after CJK
  };
  for (const std::string& input : cases) {
    NormalisedText out;
    out.text = "stale";
    EXPECT_FALSE(Stripping().Normalise(input, out)) << Hex(input);
    EXPECT_EQ(out.text, "");
    out.text = "stale";
    EXPECT_FALSE(Stripping().Normalise(input, out, true));
    EXPECT_EQ(out.text, "");
    EXPECT_TRUE(out.source_begin.empty());
    EXPECT_FALSE(IsValidUtf8(input));
    EXPECT_EQ(Stripping().Normalise(input), "");
  }
}

TEST(NormaliserTest, AcceptsBoundaryCodePoints) {
  for (char32_t cp :
       {0x0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF}) {
    const std::string s = U(cp);
    EXPECT_TRUE(IsValidUtf8(s)) << Hex(s);
    NormalisedText out;
    EXPECT_TRUE(Stripping().Normalise(s, out)) << Hex(s);
  }
}

TEST(NormaliserTest, IsValidUtf8AgreesWithUtf8procOnRandomBytes) {
  std::mt19937 rng(7);
  const uint8_t interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1,
                                 0xC2, 0xDF, 0xE0, 0xE4, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 12, '\0');
    for (char& c : s) c = static_cast<char>(interesting[rng() % sizeof interesting]);
    bool valid = true;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    for (auto left = static_cast<utf8proc_ssize_t>(s.size()); left > 0 && valid;) {
      utf8proc_int32_t cp;
      const auto n = utf8proc_iterate(p, left, &cp);
      valid = n > 0;
      p += n;
      left -= n;
    }
    ASSERT_EQ(IsValidUtf8(s), valid) << Hex(s);
    NormalisedText out;
    ASSERT_EQ(Plain().Normalise(s, out), valid);
  }
}

// Every code point alone, in its canonical and compatibility decompositions, and next to
// a combining mark: this exercises every composition pair Unicode has.
TEST(NormaliserTest, EveryCodePointMatchesReference) {
  NormalisedText out;
  int failures = 0;
  for (char32_t cp = 0; cp < 0x110000 && failures < 20; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const char32_t plane = cp >> 16;
    const bool interesting = plane <= 3 || plane == 14;
    std::vector<std::string> inputs = {U(cp)};
    if (interesting) {
      for (auto* form : {utf8proc_NFD, utf8proc_NFKD}) {
        utf8proc_uint8_t* decomposed =
            form(reinterpret_cast<const utf8proc_uint8_t*>(U(cp).c_str()));
        inputs.emplace_back(reinterpret_cast<char*>(decomposed));
        std::free(decomposed);
      }
      inputs.push_back(U(cp) + "\u0301");
    }
    if (plane <= 1) inputs.push_back("a" + U(cp));
    for (const std::string& input : inputs) {
      ASSERT_TRUE(Plain().Normalise(input, out)) << Hex(input);
      if (out.text != Reference(input)) {
        ++failures;
        ADD_FAILURE() << "input " << Hex(input) << " got " << Hex(out.text) << " want "
                      << Hex(Reference(input));
      }
    }
  }
}

// Random text made of the pieces that make normalisation hard.
class TextGenerator {
 public:
  explicit TextGenerator(uint32_t seed) : rng_(seed) {}

  std::string Next(int max_pieces) {
    std::string s;
    const int pieces = static_cast<int>(rng_() % max_pieces);
    for (int i = 0; i < pieces; ++i) s += Piece();
    return s;
  }

 private:
  char32_t In(char32_t first, char32_t last) { return first + rng_() % (last - first + 1); }
  std::string From(std::u32string_view options) { return U(options[rng_() % options.size()]); }

  std::string Piece() {
    switch (rng_() % 16) {
      case 0: {
        std::string word;
        for (int n = 1 + rng_() % 8; n > 0; --n) word += static_cast<char>(In(0, 0x7F));
        return word;
      }
      case 1:
        return From(U"refundDELAYxyz 0123 -_.,!?");
      case 2:
        return From(U"退款没到账客服一直不处理石沉大海钱");
      case 3:
        return U(In(0xFF01, 0xFF5E));  // full-width ASCII
      case 4:
        return U(In(0xC0, 0x24F));  // Latin-1 and Latin Extended
      case 5:
        return U(In(0x300, 0x36F)) + (rng_() % 2 ? U(In(0x300, 0x36F)) : "");
      case 6:
        return U(rng_() % 2 ? In(0x370, 0x3FF) : In(0x1F00, 0x1FFF));  // Greek
      case 7:
        return U(In(0x400, 0x4FF));  // Cyrillic
      case 8:
        return U(In(0x1100, 0x1112)) + U(In(0x1161, 0x1175)) +
               (rng_() % 2 ? U(In(0x11A7, 0x11C2)) : "");
      case 9:
        return From(U"\uAC00\uB098\uD7A3\u3131\u314F\uFFA1\uFFC2\u11A8\u1161");
      case 10:
        return From(U"\u304B\u3099\u309A\u309B\uFF76\uFF9E\uFF9F\u30CF\u30FB");
      case 11:
        return U(In(0x1F300, 0x1F6FF)) + From(U"\uFE0F\u200D\U0001F3FB a");
      case 12:
        return From(
            U"\uFB01\uFB00\uFB06\uFDFA\u337F\u2460\u00BD\u0130\u1E9E\u0345\u0344"
            U"\U0001D400\U0001D7CE\U0002F800\U00020000\u2126\u212B");
      case 13:
        return From(
            U"\u200B\u200C\u200D\u00AD\uFEFF\u2060\u2065\U000E0001\U000E0041"
            U"\U000E0100\U000E0002\u180E\uFE0E");
      case 14:
        return From(
            U"\u0B47\u0B3E\u0B57\u0DD9\u0DCF\u0DDF\u1B05\u1B35\u0CC6\u0CD5\u0CC2"
            U"\u09C7\u09BE\u1025\u102E");
      default: {
        const char32_t cp = rng_() % 8 ? In(0x20, 0xFFFD) : In(0x10000, 0x10FFFF);
        return cp >= 0xD800 && cp <= 0xDFFF ? "" : U(cp);
      }
    }
  }

  std::mt19937 rng_;
};

TEST(NormaliserTest, RandomTextMatchesWholeStringReference) {
  TextGenerator generator(20240611);
  NormalisedText out;
  NormalisedText with_offsets;
  for (int round = 0; round < 20000; ++round) {
    const std::string input = generator.Next(40);
    ASSERT_TRUE(Plain().Normalise(input, out)) << Hex(input);
    ASSERT_EQ(out.text, Reference(input)) << "input " << Hex(input);
    ASSERT_TRUE(Plain().Normalise(input, with_offsets, true));
    ASSERT_EQ(with_offsets.text, out.text);
  }
}

bool IsSeparatorImage(char32_t c) {
  return std::u32string_view(
             U"\t\n\v\f\r \"#$%&'*+,-./=@\\^_`|~\u0085\u00B7\u1680\u2010\u2011"
             U"\u2012\u2013\u2014\u2015\u2022\u2027\u2028\u2029\u2212\u2219"
             U"\u22C5\u30FB\u3000")
             .find(c) != std::u32string_view::npos;
}

// A superset of what the normaliser counts as CJK.
bool IsRoughlyCjk(char32_t c) {
  return (c >= 0x2E80 && c <= 0x31FF) || (c >= 0x3400 && c <= 0x9FFF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x1B000 && c <= 0x1B16F) || (c >= 0x20000 && c <= 0x3FFFF);
}

// Stripping only ever removes separators, and never touches text without CJK.
TEST(NormaliserTest, StrippingOnlyRemovesSeparators) {
  TextGenerator generator(99);
  for (int round = 0; round < 20000; ++round) {
    const std::string input = generator.Next(30);
    const std::string plain = Plain().Normalise(input);
    const std::string stripped = Stripping().Normalise(input);
    const std::vector<char32_t> kept = CodePoints(stripped);
    size_t k = 0;
    for (char32_t cp : CodePoints(plain)) {
      if (k < kept.size() && kept[k] == cp) {
        ++k;
      } else {
        ASSERT_TRUE(IsSeparatorImage(cp)) << "removed " << Hex(U(cp)) << " from " << Hex(input);
      }
    }
    ASSERT_EQ(k, kept.size()) << Hex(input);
    if (stripped != plain) {
      const std::vector<char32_t> all = CodePoints(plain);
      ASSERT_TRUE(std::any_of(all.begin(), all.end(), IsRoughlyCjk)) << Hex(input);
    }
  }
}

// For each output character, the original range it maps to is whole characters of the
// input whose own normalisation contains it.
void ExpectSensibleOffsets(std::string_view input, const NormalisedText& out) {
  ASSERT_EQ(out.source_begin.size(), out.text.size());
  ASSERT_EQ(out.source_end.size(), out.text.size());
  uint32_t previous_begin = 0;
  for (size_t i = 0; i < out.text.size();) {
    size_t len = 1;
    while (i + len < out.text.size() && (static_cast<uint8_t>(out.text[i + len]) & 0xC0) == 0x80)
      ++len;
    const auto [begin, end] = out.ToOriginal(i, i + len);
    ASSERT_LT(begin, end);
    ASSERT_LE(end, input.size());
    ASSERT_GE(begin, previous_begin);
    ASSERT_TRUE(IsValidUtf8(input.substr(begin, end - begin))) << "not whole characters";
    for (size_t j = i; j < i + len; ++j) {
      ASSERT_EQ(out.source_begin[j], begin);
      ASSERT_EQ(out.source_end[j], end);
    }
    const std::string source_alone = Plain().Normalise(input.substr(begin, end - begin));
    ASSERT_NE(source_alone.find(out.text.substr(i, len)), std::string::npos)
        << Hex(out.text.substr(i, len)) << " is not in the normalised " << Hex(source_alone);
    previous_begin = begin;
    i += len;
  }
}

TEST(NormaliserTest, OffsetsOfExamples) {
  NormalisedText out;
  ASSERT_TRUE(Stripping().Normalise("退 款", out, true));
  EXPECT_EQ(out.text, "退款");
  EXPECT_EQ(out.ToOriginal(0, 3), std::make_pair(0u, 3u));
  EXPECT_EQ(out.ToOriginal(3, 6), std::make_pair(4u, 7u));
  EXPECT_EQ(out.ToOriginal(0, 6), std::make_pair(0u, 7u));
  EXPECT_EQ(out.ToOriginal(1, 2), std::make_pair(0u, 3u));  // a byte inside a character

  ASSERT_TRUE(Stripping().Normalise("ＲＥＦＵＮＤ", out, true));
  EXPECT_EQ(out.text, "refund");
  for (uint32_t i = 0; i < 6; ++i) {
    EXPECT_EQ(out.ToOriginal(i, i + 1), std::make_pair(3 * i, 3 * i + 3));
  }
  EXPECT_EQ(out.ToOriginal(0, 6), std::make_pair(0u, 18u));

  ASSERT_TRUE(Stripping().Normalise("x\uFB01", out, true));  // ligature expands
  EXPECT_EQ(out.text, "xfi");
  EXPECT_EQ(out.ToOriginal(1, 2), std::make_pair(1u, 4u));
  EXPECT_EQ(out.ToOriginal(2, 3), std::make_pair(1u, 4u));

  ASSERT_TRUE(Stripping().Normalise("e\u0301x", out, true));  // composition
  EXPECT_EQ(out.text, "\u00E9x");
  EXPECT_EQ(out.ToOriginal(0, 2), std::make_pair(0u, 3u));
  EXPECT_EQ(out.ToOriginal(2, 3), std::make_pair(3u, 4u));

  ASSERT_TRUE(Stripping().Normalise("a\u200Bb", out, true));  // dropped ignorable
  EXPECT_EQ(out.text, "ab");
  EXPECT_EQ(out.ToOriginal(0, 1), std::make_pair(0u, 1u));
  EXPECT_EQ(out.ToOriginal(1, 2), std::make_pair(4u, 5u));
}

TEST(NormaliserTest, StrippedSeparatorsAreNeverInsideAMappedCharacter) {
  NormalisedText out;
  const std::string input = "退 - 款 \u200B．没";
  ASSERT_TRUE(Stripping().Normalise(input, out, true));
  ASSERT_EQ(out.text, "退款没");
  EXPECT_EQ(out.ToOriginal(0, 3), std::make_pair(0u, 3u));
  EXPECT_EQ(out.ToOriginal(3, 6), std::make_pair(6u, 9u));
  EXPECT_EQ(out.ToOriginal(6, 9), std::make_pair(16u, 19u));
  ExpectSensibleOffsets(input, out);
}

TEST(NormaliserTest, RandomTextHasSensibleOffsets) {
  TextGenerator generator(4242);
  NormalisedText out;
  for (int round = 0; round < 5000; ++round) {
    const std::string input = generator.Next(30);
    for (const Normaliser* normaliser : {&Plain(), &Stripping()}) {
      ASSERT_TRUE(normaliser->Normalise(input, out, true));
      ASSERT_EQ(out.text, normaliser->Normalise(input));
      ExpectSensibleOffsets(input, out);
      if (HasFatalFailure()) FAIL() << "input " << Hex(input);
    }
  }
}

std::string LongMixedText() {
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += "Customer #" + std::to_string(i) + " says: 退款一个月了还没到账，客服一直不处理！ ";
    text += "ＲＥＦＵＮＤ ＤＥＬＡＹＥＤ — Cafe\u0301 \uFB01nance Straße ΣΟΦΙΑ \u1100\u1161\u11A8 ";
    text += "退 - 款 石\u200B沉\u00AD大海 \U0001F621\uFE0F カ・タ ｶﾞ \n";
  }
  return text;
}

TEST(NormaliserTest, LongMixedText) {
  const std::string input = LongMixedText();
  NormalisedText out;
  ASSERT_TRUE(Plain().Normalise(input, out));
  EXPECT_EQ(out.text, Reference(input));
  ASSERT_TRUE(Stripping().Normalise(input, out, true));
  ExpectSensibleOffsets(input, out);
  EXPECT_NE(out.text.find("customer #399 says: 退款一个月了还没到账,客服一直不处理! "),
            std::string::npos);
  EXPECT_NE(out.text.find("refund delayed — café finance strasse σοφια 각退款石沉大海"),
            std::string::npos);
  EXPECT_EQ(out.text.find("退 - 款"), std::string::npos);
}

// Output much longer than the input makes the buffers grow in the middle of a pass.
TEST(NormaliserTest, GrowsForExpandingText) {
  std::string input;
  for (int i = 0; i < 3000; ++i) {
    input += i % 3 ? "\uFDFA" : "\u337F退 款\u0390";  // ﷺ: 3 bytes -> 33; ㍿ -> 株式会社
  }
  NormalisedText out;
  ASSERT_TRUE(Plain().Normalise(input, out, true));
  EXPECT_EQ(out.text, Reference(input));
  EXPECT_GT(out.text.size(), 8 * input.size() / 2);
  ExpectSensibleOffsets(input, out);
  ASSERT_TRUE(Stripping().Normalise(input, out));
  EXPECT_NE(out.text.find("株式会社退款" + Reference("\u0390")), std::string::npos);
}

// A Normaliser is immutable and may be shared by threads; each may also build its own.
TEST(NormaliserTest, ThreadsShareOneNormaliser) {
  const std::string input = LongMixedText();
  const std::string expected = Stripping().Normalise(input);
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (std::string& result : results) {
    threads.emplace_back([&input, &result] {
      const Normaliser own(NormaliserOptions{.strip_cjk_separators = true});
      NormalisedText out;
      for (int i = 0; i < 20; ++i) {
        Stripping().Normalise(input, out, i % 2 == 0);
        if (out.text != own.Normalise(input)) return;
      }
      result = out.text;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& result : results) EXPECT_EQ(result, expected);
}

TEST(NormaliserTest, ReusesBuffers) {
  const std::string input = LongMixedText();
  NormalisedText out;
  ASSERT_TRUE(Stripping().Normalise(input, out, true));
  const char* text = out.text.data();
  const uint32_t* begin = out.source_begin.data();
  const size_t capacity = out.text.capacity();
  for (size_t size : {input.size(), input.size() / 2, size_t{10}, input.size()}) {
    std::string_view prefix(input.data(), size);
    while (!IsValidUtf8(prefix)) prefix.remove_suffix(1);
    ASSERT_TRUE(Stripping().Normalise(prefix, out, true));
    EXPECT_EQ(out.text.data(), text);
    EXPECT_EQ(out.source_begin.data(), begin);
    EXPECT_EQ(out.text.capacity(), capacity);
  }
}

TEST(NormaliserTest, LongCombiningSequencesStayBounded) {
  std::string zalgo = "a";
  for (int i = 0; i < 5000; ++i) zalgo += "\u0301";
  NormalisedText out;
  ASSERT_TRUE(Stripping().Normalise(zalgo + "b", out, true));
  EXPECT_EQ(out.text, Reference(zalgo + "b"));  // marks of one class: cutting is harmless
  ExpectSensibleOffsets(zalgo + "b", out);

  std::string mixed = "e";
  for (int i = 0; i < 5000; ++i) mixed += (i % 2 ? "\u0301" : "\u0323");
  ASSERT_TRUE(Stripping().Normalise(mixed, out));
  EXPECT_TRUE(IsValidUtf8(out.text));
  EXPECT_EQ(CodePoints(out.text).size(), 5000u);  // ẹ plus the rest, none lost
}

}  // namespace
}  // namespace vigil::rules
