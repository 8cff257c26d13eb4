// Every problem found while loading or compiling rules, collected rather than thrown,
// so that a rule author sees all of them at once. Modelled on Falco's rule loader result.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace vigil::rules {

struct Diagnostic {
  enum class Level { kError, kWarning };
  Level level = Level::kError;
  Location where;
  std::string rule_id;  // empty when the problem is not inside a rule
  std::string message;

  // "file:line:col: error: message [rule id]"
  std::string ToString() const;
};

class Diagnostics {
 public:
  void Error(Location where, std::string rule_id, std::string message);
  void Warning(Location where, std::string rule_id, std::string message);

  bool has_errors() const { return errors_ > 0; }
  int error_count() const { return errors_; }
  int warning_count() const { return int(items_.size()) - errors_; }
  const std::vector<Diagnostic>& items() const { return items_; }
  // Sorted by file, line, column (stable for equal positions).
  std::vector<Diagnostic> Sorted() const;
  // All errors, one per line, for a single Error value (e.g. a rejected reload).
  std::string Summary(size_t max_lines = 20) const;

 private:
  std::vector<Diagnostic> items_;
  int errors_ = 0;
};

}  // namespace vigil::rules
