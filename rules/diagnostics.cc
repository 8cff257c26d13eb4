#include "rules/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace vigil::rules {

std::string Diagnostic::ToString() const {
  std::string out = where.ToString();
  if (!out.empty()) out += ": ";
  out += level == Level::kError ? "error: " : "warning: ";
  out += message;
  if (!rule_id.empty()) out += " [" + rule_id + "]";
  return out;
}

void Diagnostics::Error(Location where, std::string rule_id, std::string message) {
  items_.push_back({Diagnostic::Level::kError, std::move(where), std::move(rule_id),
                    std::move(message)});
  ++errors_;
}

void Diagnostics::Warning(Location where, std::string rule_id, std::string message) {
  items_.push_back({Diagnostic::Level::kWarning, std::move(where), std::move(rule_id),
                    std::move(message)});
}

std::vector<Diagnostic> Diagnostics::Sorted() const {
  std::vector<Diagnostic> sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.file, a.where.line, a.where.column) <
           std::tie(b.where.file, b.where.line, b.where.column);
  });
  return sorted;
}

std::string Diagnostics::Summary(size_t max_lines) const {
  std::string out;
  size_t shown = 0;
  for (const Diagnostic& d : Sorted()) {
    if (d.level != Diagnostic::Level::kError) continue;
    if (shown == max_lines) {
      out += "\n... and " + std::to_string(errors_ - int(shown)) + " more errors";
      break;
    }
    if (!out.empty()) out += "\n";
    out += d.ToString();
    ++shown;
  }
  return out;
}

}  // namespace vigil::rules
