#include <array>

#include <fmt/format.h>
#include <re2/re2.h>

#include "connectors/post.h"

namespace vigil::connectors {
namespace {

constexpr std::array<std::string_view, 8> kReasonNames = {
    "not_json", "not_utf8", "too_large", "too_deep", "not_object", "missing_id", "missing_body", "bad_field"};

PostError Fail(InvalidReason reason, std::string detail) { return {reason, std::move(detail)}; }

bool StringField(simdjson::dom::element value, std::string_view name, std::string_view& out,
                 PostError& error) {
  if (value.is_null()) return true;
  if (!value.is_string()) {
    error = Fail(InvalidReason::kBadField, fmt::format("'{}' must be a string", name));
    return false;
  }
  out = value.get_string().value_unsafe();
  return true;
}

bool CountField(simdjson::dom::element value, std::string_view name, int64_t& out, PostError& error) {
  if (value.is_null()) return true;
  if (value.is_int64()) {
    out = value.get_int64().value_unsafe();
  } else if (value.is_uint64()) {
    out = INT64_MAX;
  } else if (value.is_double()) {
    out = int64_t(value.get_double().value_unsafe());
  } else {
    error = Fail(InvalidReason::kBadField, fmt::format("'metrics.{}' must be a number", name));
    return false;
  }
  if (out < 0) {
    error = Fail(InvalidReason::kBadField, fmt::format("'metrics.{}' must not be negative", name));
    return false;
  }
  return true;
}

}  // namespace

std::string_view InvalidReasonName(InvalidReason reason) {
  return kReasonNames[static_cast<size_t>(reason)];
}

bool IsRfc3339(std::string_view s) {
  static const RE2 kRfc3339(
      R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d))");
  return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), kRfc3339);
}

void PostView::MatchFields(std::vector<rules::FieldText>& out, std::string& tags_buffer) const {
  using rules::Field;
  out.clear();
  if (!title.empty()) out.push_back({Field::kTitle, title});
  out.push_back({Field::kBody, body});
  if (!author_name.empty()) out.push_back({Field::kAuthorName, author_name});
  if (!community.empty()) out.push_back({Field::kCommunity, community});
  if (!platform.empty()) out.push_back({Field::kPlatform, platform});
  if (!url.empty()) out.push_back({Field::kUrl, url});
  if (!tags.empty()) {
    tags_buffer.clear();
    for (std::string_view tag : tags) {
      if (!tags_buffer.empty()) tags_buffer += '\n';
      tags_buffer += tag;
    }
    out.push_back({Field::kTags, tags_buffer});
  }
}

PostDecoder::PostDecoder(DecoderLimits limits) : limits_(limits) {
  // Failing to pre-allocate only means parse() allocates on first use.
  if (parser_.allocate(limits_.max_bytes, limits_.max_depth) != simdjson::SUCCESS) return;
}

bool PostDecoder::Decode(std::string_view json, PostView& out, PostError& error) {
  out = PostView{};
  if (json.size() > limits_.max_bytes) {
    error = Fail(InvalidReason::kTooLarge,
                 fmt::format("{} bytes, more than the limit of {}", json.size(), limits_.max_bytes));
    return false;
  }
  simdjson::dom::element root;
  const simdjson::error_code code = parser_.parse(json.data(), json.size(), true).get(root);
  if (code != simdjson::SUCCESS) {
    switch (code) {
      case simdjson::UTF8_ERROR: error = Fail(InvalidReason::kNotUtf8, "not valid UTF-8"); break;
      case simdjson::DEPTH_ERROR:
        error = Fail(InvalidReason::kTooDeep, fmt::format("nested deeper than {}", limits_.max_depth));
        break;
      case simdjson::CAPACITY:
        error = Fail(InvalidReason::kTooLarge, "larger than the decoder's capacity");
        break;
      default: error = Fail(InvalidReason::kNotJson, simdjson::error_message(code)); break;
    }
    return false;
  }
  if (!root.is_object()) {
    error = Fail(InvalidReason::kNotObject, "a post must be a JSON object");
    return false;
  }
  const simdjson::dom::object post = root.get_object().value_unsafe();
  bool have_id = false, have_body = false;
  for (const auto field : post) {
    const std::string_view key = field.key;
    const simdjson::dom::element value = field.value;
    if (key == "id") {
      if (value.is_string()) {
        out.id = value.get_string().value_unsafe();
      } else if (value.is_int64() || value.is_uint64()) {
        id_buffer_ = simdjson::to_string(value);
        out.id = id_buffer_;
      } else {
        error = Fail(InvalidReason::kMissingId, "'id' must be a string or an integer");
        return false;
      }
      have_id = !out.id.empty();
    } else if (key == "body") {
      if (!value.is_string()) {
        error = Fail(InvalidReason::kMissingBody, "'body' must be a string");
        return false;
      }
      out.body = value.get_string().value_unsafe();
      have_body = true;
    } else if (key == "title" || key == "platform" || key == "community" || key == "url" ||
               key == "lang" || key == "created_at") {
      std::string_view* target = key == "title"       ? &out.title
                                 : key == "platform"  ? &out.platform
                                 : key == "community" ? &out.community
                                 : key == "url"       ? &out.url
                                 : key == "lang"      ? &out.lang
                                                      : &out.created_at;
      if (!StringField(value, key, *target, error)) return false;
    } else if (key == "author") {
      if (value.is_null()) continue;
      if (!value.is_object()) {
        error = Fail(InvalidReason::kBadField, "'author' must be an object with id and name");
        return false;
      }
      const simdjson::dom::object author_object = value.get_object().value_unsafe();
      for (const auto author : author_object) {
        if (author.key == "name" && !StringField(author.value, "author.name", out.author_name, error)) return false;
        if (author.key == "id") {
          if (author.value.is_string()) {
            out.author_id = author.value.get_string().value_unsafe();
          } else if (!author.value.is_null() && !author.value.is_number()) {
            error = Fail(InvalidReason::kBadField, "'author.id' must be a string");
            return false;
          }
        }
      }
    } else if (key == "metrics") {
      if (value.is_null()) continue;
      if (!value.is_object()) {
        error = Fail(InvalidReason::kBadField, "'metrics' must be an object");
        return false;
      }
      const simdjson::dom::object metrics = value.get_object().value_unsafe();
      for (const auto m : metrics) {
        int64_t* target = m.key == "likes"       ? &out.likes
                          : m.key == "shares"    ? &out.shares
                          : m.key == "replies"   ? &out.replies
                          : m.key == "followers" ? &out.followers
                                                 : nullptr;
        if (target && !CountField(m.value, m.key, *target, error)) return false;
      }
    } else if (key == "tags") {
      if (value.is_null()) continue;
      if (!value.is_array()) {
        error = Fail(InvalidReason::kBadField, "'tags' must be an array of strings");
        return false;
      }
      const simdjson::dom::array tags = value.get_array().value_unsafe();
      for (const auto tag : tags) {
        if (!tag.is_string()) {
          error = Fail(InvalidReason::kBadField, "'tags' must be an array of strings");
          return false;
        }
        out.tags.push_back(tag.get_string().value_unsafe());
      }
    }
    // Unknown fields are kept in the message but ignored here (DESIGN.md).
  }
  if (!have_id) {
    error = Fail(InvalidReason::kMissingId, "no 'id'");
    return false;
  }
  if (!have_body) {
    error = Fail(InvalidReason::kMissingBody, "no 'body'");
    return false;
  }
  if (!out.created_at.empty() && !IsRfc3339(out.created_at)) {
    error = Fail(InvalidReason::kBadField, "'created_at' is not an RFC 3339 timestamp");
    return false;
  }
  return true;
}

}  // namespace vigil::connectors
