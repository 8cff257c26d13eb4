#include "rules/excerpt.h"

#include <algorithm>
#include <vector>

namespace vigil::rules {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

uint32_t CharStart(std::string_view s, uint32_t i) {
  while (i > 0 && i < s.size() && IsContinuation(static_cast<unsigned char>(s[i]))) --i;
  return std::min<uint32_t>(i, uint32_t(s.size()));
}

uint32_t BackChars(std::string_view s, uint32_t i, int n) {
  while (n-- > 0 && i > 0) i = CharStart(s, i - 1);
  return i;
}

uint32_t ForwardChars(std::string_view s, uint32_t i, int n) {
  while (n-- > 0 && i < s.size()) {
    ++i;
    while (i < s.size() && IsContinuation(static_cast<unsigned char>(s[i]))) ++i;
  }
  return i;
}

// Appends text with ASCII control characters (line breaks included) as single spaces.
void AppendClean(std::string& out, std::string_view text) {
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      if (out.empty() || out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string RenderExcerpt(std::string_view original, uint32_t begin, uint32_t end,
                          std::span<const MaskRange> masks, int context_chars, int max_chars,
                          bool ellipses) {
  const uint32_t size = uint32_t(original.size());
  begin = CharStart(original, std::min(begin, size));
  end = std::clamp(end, begin, size);
  end = std::min(end, ForwardChars(original, begin, max_chars));
  uint32_t from = BackChars(original, begin, context_chars);
  uint32_t to = ForwardChars(original, end, context_chars);

  std::vector<MaskRange> relevant;
  for (const MaskRange& m : masks) {
    if (m.begin < m.end && m.end <= size) relevant.push_back(m);
  }
  std::sort(relevant.begin(), relevant.end(),
            [](const MaskRange& a, const MaskRange& b) { return a.begin < b.begin; });
  // Grow the window over any mask range it cuts, until stable.
  for (bool grown = true; grown;) {
    grown = false;
    for (const MaskRange& m : relevant) {
      if (m.begin < from && m.end > from) from = m.begin, grown = true;
      if (m.begin < to && m.end > to) to = m.end, grown = true;
    }
  }

  std::string out;
  if (from > 0 && ellipses) out += "…";
  uint32_t at = from;
  for (const MaskRange& m : relevant) {
    if (m.end <= at || m.begin >= to) continue;
    const uint32_t mask_begin = std::max(m.begin, at);
    AppendClean(out, original.substr(at, mask_begin - at));
    AppendClean(out, Mask(m.validator, original.substr(mask_begin, m.end - mask_begin)));
    at = m.end;
  }
  if (at < to) AppendClean(out, original.substr(at, to - at));
  if (to < size && ellipses) out += "…";
  return out;
}

}  // namespace vigil::rules
