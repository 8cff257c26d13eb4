// Errors as values. Every path that untrusted input can reach (rule files, posts,
// requests) reports failure through Result<T> rather than by throwing.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace vigil {

// Where a problem is: a file and a 1-based line and column (0 when unknown).
struct Location {
  std::string file;
  int line = 0;
  int column = 0;

  bool empty() const { return file.empty() && line == 0; }
  // "file:line:col", "file:line", "file" or "" depending on what is known.
  std::string ToString() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    if (line > 0 && column > 0) out += ":" + std::to_string(column);
    return out;
  }
};

struct Error {
  std::string message;
  Location where;

  std::string ToString() const {
    return where.empty() ? message : where.ToString() + ": " + message;
  }
};

// Holds either a value or an Error. REQUIRES: value() only when ok(), error() only when !ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(state_); }
  const T& value() const& { assert(ok()); return std::get<0>(state_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace vigil
