// Mask() from validators.h: renders a sensitive value with most of it replaced by '*'.
//
// The value is the ORIGINAL text of a span, so it may hold full-width digits, CJK,
// odd separators or broken UTF-8. It is cut into characters (code points; a byte
// that does not start a well-formed sequence is a character of its own). Separator
// characters stay where they were; every other, "significant", character is either
// kept or replaced by one '*'. A kept byte of broken UTF-8 comes out as U+FFFD, so the
// output is always valid UTF-8 and never longer in characters than the input.

#include "rules/validators.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::rules {
namespace {

struct Char {
  size_t begin = 0;
  size_t size = 1;
  char32_t code_point = 0;
  bool valid = false;  // false: one byte that is not part of well-formed UTF-8
};

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The character that starts at s[i] (REQUIRES: i < s.size()), decoded by the
// well-formedness table of Unicode 15 section 3.9 (no overlongs, no surrogates,
// nothing past U+10FFFF).
Char DecodeAt(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  Char c{i, 1, lead, lead < 0x80};
  if (lead < 0xC2 || lead > 0xF4) return c;
  const size_t size = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  if (i + size > s.size()) return c;
  const unsigned char second = byte(i + 1);
  unsigned char low = 0x80, high = 0xBF;
  if (lead == 0xE0) low = 0xA0;
  if (lead == 0xED) high = 0x9F;
  if (lead == 0xF0) low = 0x90;
  if (lead == 0xF4) high = 0x8F;
  if (second < low || second > high) return c;
  char32_t cp = lead & (0xFF >> (size + 1));
  for (size_t k = 1; k < size; ++k) {
    if (!IsContinuation(byte(i + k))) return c;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  return Char{i, size, cp, true};
}

std::vector<Char> Decode(std::string_view s) {
  std::vector<Char> chars;
  chars.reserve(s.size());
  for (size_t i = 0; i < s.size(); i += chars.back().size) chars.push_back(DecodeAt(s, i));
  return chars;
}

bool IsDot(char32_t cp) { return cp == U'.' || cp == U'\uFF0E'; }

// Spaces, dashes and dots, ASCII and the forms people type in CJK text.
bool IsSeparator(const Char& c) {
  if (!c.valid) return false;
  const char32_t cp = c.code_point;
  return cp == U' ' || cp == U'-' || IsDot(cp) || cp == U'\u00A0' || cp == U'\u2007' ||
         cp == U'\u202F' || (cp >= U'\u2010' && cp <= U'\u2015') || cp == U'\u2212' ||
         cp == U'\u3000' || cp == U'\uFE63' || cp == U'\uFF0D';
}

class MaskWriter {
 public:
  explicit MaskWriter(std::string_view text) : text_(text) {}

  void Keep(const Char& c) {
    if (c.valid) {
      out_.append(text_.substr(c.begin, c.size));
    } else {
      out_.append("\xEF\xBF\xBD");  // U+FFFD
    }
  }
  void Hide() { out_.push_back('*'); }
  std::string Take() { return std::move(out_); }

 private:
  std::string_view text_;
  std::string out_;
};

size_t CountSignificant(const std::vector<Char>& chars, size_t from, size_t to) {
  size_t n = 0;
  for (size_t i = from; i < to; ++i) n += IsSeparator(chars[i]) ? 0 : 1;
  return n;
}

// Writes chars[from, to): separators as they are, the first `head` and the last
// `tail` significant characters as they are, every other significant one as '*'.
void KeepEnds(const std::vector<Char>& chars, size_t from, size_t to, size_t head, size_t tail,
              MaskWriter& out) {
  const size_t n = CountSignificant(chars, from, to);
  size_t seen = 0;
  for (size_t i = from; i < to; ++i) {
    if (IsSeparator(chars[i])) {
      out.Keep(chars[i]);
      continue;
    }
    if (seen < head || seen + tail >= n) {
      out.Keep(chars[i]);
    } else {
      out.Hide();
    }
    ++seen;
  }
}

// No validator, or a value too short for its validator's shape: keep the first and
// last quarter (at most 4 each) of 8+ significant characters, hide all of fewer.
void DefaultMask(const std::vector<Char>& chars, MaskWriter& out) {
  const size_t n = CountSignificant(chars, 0, chars.size());
  const size_t keep = n >= 8 ? std::min<size_t>(4, n / 4) : 0;
  KeepEnds(chars, 0, chars.size(), keep, keep, out);
}

// Keeps `head` + `tail` significant characters when at least 4 others stay hidden;
// a shorter value (a clipped span, a stray match) gets the default mask instead.
void ShapeMask(const std::vector<Char>& chars, size_t head, size_t tail, MaskWriter& out) {
  if (CountSignificant(chars, 0, chars.size()) < head + tail + 4) {
    DefaultMask(chars, out);
  } else {
    KeepEnds(chars, 0, chars.size(), head, tail, out);
  }
}

// ASCII for a digit or '+', half- or full-width; 0 for anything else.
char DigitOrPlus(const Char& c) {
  if (!c.valid) return 0;
  const char32_t cp = c.code_point;
  if ((cp >= U'0' && cp <= U'9') || cp == U'+') return char(cp);
  if (cp >= U'\uFF10' && cp <= U'\uFF19') return char('0' + (cp - U'\uFF10'));
  if (cp == U'\uFF0B') return '+';
  return 0;
}

// The 11-digit core is the last 11 significant characters, masked 3 + 4. What comes
// before it is kept only when it is a country prefix (+86, 0086, 86), else hidden.
void MobileMask(const std::vector<Char>& chars, MaskWriter& out) {
  const size_t n = CountSignificant(chars, 0, chars.size());
  if (n < 11) return DefaultMask(chars, out);
  // Split at the first significant character of the core.
  size_t core = 0;
  std::string prefix;
  for (size_t seen = 0; seen < n - 11; ++core) {
    if (IsSeparator(chars[core])) continue;
    const char c = DigitOrPlus(chars[core]);
    prefix.push_back(c == 0 ? '?' : c);
    ++seen;
  }
  const bool known_prefix = prefix.empty() || prefix == "+86" || prefix == "0086" || prefix == "86";
  for (size_t i = 0; i < core; ++i) {
    if (IsSeparator(chars[i]) || known_prefix) {
      out.Keep(chars[i]);
    } else {
      out.Hide();
    }
  }
  KeepEnds(chars, core, chars.size(), 3, 4, out);
}

// The first character of the local part, '*' for each of its others (dots included:
// they would show the shape of a name), then '@' and the domain as they are.
void EmailMask(const std::vector<Char>& chars, MaskWriter& out) {
  size_t at = chars.size();
  for (size_t i = chars.size(); i-- > 0;) {
    if (chars[i].valid && (chars[i].code_point == U'@' || chars[i].code_point == U'\uFF20')) {
      at = i;
      break;
    }
  }
  if (at == 0 || at == chars.size()) return DefaultMask(chars, out);
  out.Keep(chars[0]);
  for (size_t i = 1; i < at; ++i) out.Hide();
  for (size_t i = at; i < chars.size(); ++i) out.Keep(chars[i]);
}

// First and last octet kept, each middle octet a single '*', dots where they were.
void Ipv4Mask(const std::vector<Char>& chars, MaskWriter& out) {
  std::vector<size_t> dots;
  for (size_t i = 0; i < chars.size(); ++i) {
    if (chars[i].valid && IsDot(chars[i].code_point)) dots.push_back(i);
  }
  const bool quad = dots.size() == 3 && dots[0] > 0 && dots[1] > dots[0] + 1 &&
                    dots[2] > dots[1] + 1 && dots[2] + 1 < chars.size();
  if (!quad) return DefaultMask(chars, out);
  for (size_t i = 0; i < dots[0]; ++i) out.Keep(chars[i]);
  out.Keep(chars[dots[0]]);
  out.Hide();
  out.Keep(chars[dots[1]]);
  out.Hide();
  for (size_t i = dots[2]; i < chars.size(); ++i) out.Keep(chars[i]);
}

}  // namespace

std::string Mask(std::optional<Validator> validator, std::string_view original_value) {
  const std::vector<Char> chars = Decode(original_value);
  MaskWriter out(original_value);
  if (!validator) {
    DefaultMask(chars, out);
    return out.Take();
  }
  switch (*validator) {
    case Validator::kCnResidentId:
      ShapeMask(chars, 6, 4, out);
      break;
    case Validator::kLuhn:
      ShapeMask(chars, 0, 4, out);
      break;
    case Validator::kIban:
      ShapeMask(chars, 4, 4, out);
      break;
    case Validator::kCnMobile:
      MobileMask(chars, out);
      break;
    case Validator::kEmail:
      EmailMask(chars, out);
      break;
    case Validator::kIpv4:
      Ipv4Mask(chars, out);
      break;
    case Validator::kCnUscc:
    default:
      DefaultMask(chars, out);
      break;
  }
  return out.Take();
}

}  // namespace vigil::rules
