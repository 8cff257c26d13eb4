// Excerpts of original post text around a hit, with sensitive values masked.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rules/validators.h"

namespace vigil::rules {

// A byte range of original text that must never be shown in clear.
struct MaskRange {
  uint32_t begin = 0;
  uint32_t end = 0;
  std::optional<Validator> validator;  // chooses the mask shape
};

// The text of [begin, end) widened by `context_chars` characters on each side (never
// splitting a character), with control characters and line breaks shown as spaces,
// "…" where it was cut, and every overlapping mask range masked as a whole (the window
// grows to cover a mask range it cuts, so no fragment of a value shows). At most
// `max_chars` characters of the span itself are kept.
std::string RenderExcerpt(std::string_view original, uint32_t begin, uint32_t end,
                          std::span<const MaskRange> masks, int context_chars = 30,
                          int max_chars = 160, bool ellipses = true);

}  // namespace vigil::rules
