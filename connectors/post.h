// A community post as Vigil reads it (the post schema of DESIGN.md), and its decoder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/result.h"
#include "rules/matcher.h"

namespace vigil::connectors {

// Why a message is not a valid post: the value of the DLQ reason header and the
// `reason` label of the invalid-posts counter. A closed set, so labels stay bounded.
enum class InvalidReason : uint8_t {
  kNotJson,
  kNotUtf8,
  kTooLarge,
  kTooDeep,
  kNotObject,
  kMissingId,
  kMissingBody,
  kBadField,
};
std::string_view InvalidReasonName(InvalidReason reason);

struct PostError {
  InvalidReason reason;
  std::string detail;  // human-readable, names the field; never contains post text
};

// A decoded post. String views point into the decoder's buffers and stay valid until
// the decoder decodes the next post.
struct PostView {
  std::string_view id;
  std::string_view body;
  std::string_view title;
  std::string_view platform;
  std::string_view community;
  std::string_view author_id;
  std::string_view author_name;
  std::string_view url;
  std::string_view lang;
  std::string_view created_at;  // RFC 3339 as given
  int64_t likes = 0, shares = 0, replies = 0, followers = 0;
  std::vector<std::string_view> tags;

  // The fields the matcher sees, in `out` (cleared first). Tags are joined with "\n".
  void MatchFields(std::vector<rules::FieldText>& out, std::string& tags_buffer) const;
};

struct DecoderLimits {
  size_t max_bytes = 1 << 20;  // a post larger than this is rejected as too large
  size_t max_depth = 16;       // JSON nesting
};

// Decodes posts with simdjson's DOM parser (full validation: UTF-8, structure, depth).
// One decoder per thread; reusing it avoids allocation.
class PostDecoder {
 public:
  explicit PostDecoder(DecoderLimits limits = {});

  // Decodes one JSON document. `json` needs no padding (it is copied when short of it).
  // On success the returned view is valid until the next call.
  bool Decode(std::string_view json, PostView& out, PostError& error);

 private:
  DecoderLimits limits_;
  simdjson::dom::parser parser_;
  std::string id_buffer_;  // for numeric ids
};

// True if `s` is an RFC 3339 timestamp (2026-11-22T10:00:00Z, with optional fraction
// and numeric offset).
bool IsRfc3339(std::string_view s);

}  // namespace vigil::connectors
