#include "connectors/discourse.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "connectors/post.h"

// The payload shape follows Discourse's own sources: Jobs::EmitWebHookEvent builds the
// body as {"<event type>": <serializer output>} ({"ping": "OK"} for a ping) and signs it
// as "sha256=" + OpenSSL::HMAC.hexdigest("sha256", secret, body); WebHookPostSerializer
// (a PostSerializer) gives id, username, user_id, created_at, cooked, raw, post_number,
// post_type, reply_count, topic_id, topic_slug, topic_title, category_id, category_slug,
// topic_archetype, deleted_at, user_deleted, ... Recent versions leave out
// actions_summary, so likes are only known on older forums.

namespace vigil::connectors {
namespace {

// A webhook body is one serialised post (Discourse caps raw at 32,000 characters by
// default); anything far larger is refused before parsing.
constexpr size_t kMaxBodyBytes = 4 << 20;
constexpr std::string_view kSignaturePrefix = "sha256=";
constexpr size_t kDigestBytes = 32;  // SHA-256
// PostActionType.types[:like].
constexpr int64_t kLikeActionId = 2;
// Post.types: regular 1, moderator_action 2, small_action 3, whisper 4. Small actions
// are system notes ("closed this topic") and whispers are staff-only; neither is a
// community post.
constexpr int64_t kSmallActionPostType = 3;
constexpr int64_t kWhisperPostType = 4;

Error Fail(std::string message) { return Error{std::move(message), {}}; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status VerifySignature(std::string_view signature, std::string_view body, std::string_view secret) {
  if (signature.empty()) return Fail("X-Discourse-Event-Signature: missing");
  if (!signature.starts_with(kSignaturePrefix) ||
      signature.size() != kSignaturePrefix.size() + 2 * kDigestBytes) {
    return Fail("X-Discourse-Event-Signature: expected sha256=<64 hex digits>");
  }
  std::array<unsigned char, kDigestBytes> claimed{};
  const std::string_view hex = signature.substr(kSignaturePrefix.size());
  for (size_t i = 0; i < kDigestBytes; ++i) {
    const int high = HexDigit(hex[2 * i]), low = HexDigit(hex[2 * i + 1]);
    if (high < 0 || low < 0)
      return Fail("X-Discourse-Event-Signature: expected sha256=<64 hex digits>");
    claimed[i] = static_cast<unsigned char>(high << 4 | low);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest,
           &length) == nullptr ||
      length != kDigestBytes) {
    return Fail("X-Discourse-Event-Signature: could not compute HMAC-SHA256");
  }
  if (CRYPTO_memcmp(claimed.data(), digest, kDigestBytes) != 0) {
    return Fail(
        "X-Discourse-Event-Signature: does not match the body (wrong secret or altered body)");
  }
  return Status::Ok();
}

// "https://Forum.Example.com:8443/sub?x" -> "forum.example.com:8443". The host keeps the
// post id unique across forums; the port stays because two forums may share a host.
Result<std::string> InstanceHost(std::string_view instance) {
  if (instance.empty()) return Fail("X-Discourse-Instance: missing");
  const Error bad =
      Fail("X-Discourse-Instance: expected an http(s) URL such as https://forum.example.com");
  std::string_view rest;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (instance.size() > scheme.size() && instance.substr(0, scheme.size()) == scheme) {
      rest = instance.substr(scheme.size());
    }
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.empty()) return bad;
  std::string host;
  for (char c : rest) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                         c == ':' || c == '[' || c == ']';
    if (!allowed) return bad;
    host += c;
  }
  return host;
}

void AppendUtf8(std::string& out, uint32_t code_point) {
  if (code_point == 0 || (code_point >= 0xD800 && code_point <= 0xDFFF) || code_point > 0x10FFFF) {
    code_point = 0xFFFD;
  }
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | code_point >> 6);
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | code_point >> 12);
    out += static_cast<char>(0x80 | (code_point >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | code_point >> 18);
    out += static_cast<char>(0x80 | (code_point >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (code_point >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Decodes the entity at the start of `text` ("&amp;", "&#20320;", "&#x4F60;") into `out`
// and returns its length, or 0 if `text` does not start with one we know.
size_t DecodeEntity(std::string_view text, std::string& out) {
  const size_t end = text.find(';');
  if (end == std::string_view::npos || end < 2 || end > 10) return 0;
  const std::string_view name = text.substr(1, end - 1);
  if (name[0] == '#') {
    const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    const std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    uint32_t code_point = 0;
    for (char c : digits) {
      const int digit = hex ? HexDigit(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
      if (digit < 0) return 0;
      code_point = code_point * (hex ? 16 : 10) + static_cast<uint32_t>(digit);
      if (code_point > 0x10FFFF) code_point = 0x110000;  // saturate; AppendUtf8 replaces it
    }
    AppendUtf8(out, code_point);
    return end + 1;
  }
  // The markup escapes plus the typographic ones that turn up in cooked text.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kNamed = {
      {{"amp", "&"},
       {"lt", "<"},
       {"gt", ">"},
       {"quot", "\""},
       {"apos", "'"},
       {"nbsp", " "},
       {"ndash", "\u2013"},
       {"mdash", "\u2014"},
       {"hellip", "\u2026"},
       {"lsquo", "\u2018"},
       {"rsquo", "\u2019"},
       {"ldquo", "\u201c"},
       {"rdquo", "\u201d"},
       {"middot", "\u00b7"}}};
  for (const auto& [entity, text_value] : kNamed) {
    if (name == entity) {
      out += text_value;
      return end + 1;
    }
  }
  return 0;
}

bool IsBlockTag(std::string_view tag) {
  static constexpr std::array<std::string_view, 20> kBlocks = {
      "p",     "br", "div", "li", "ul", "ol", "pre", "blockquote", "aside",   "tr",
      "table", "hr", "h1",  "h2", "h3", "h4", "h5",  "h6",         "details", "summary"};
  for (std::string_view block : kBlocks) {
    if (tag == block) return true;
  }
  return false;
}

// Only for payloads without `raw`: Discourse's cooked HTML is machine-generated and
// well-formed (no scripts, attributes quoted), so dropping tags, decoding the common
// entities and turning block ends into line breaks recovers the text the rules need
// without pulling in an HTML parser. Lines are trimmed, runs of blanks collapsed and
// blank lines dropped; images (emoji) leave nothing.
std::string CookedToText(std::string_view html) {
  std::string text;
  for (size_t i = 0; i < html.size();) {
    const char c = html[i];
    if (c == '<') {
      if (html.substr(i, 4) == "<!--") {
        const size_t close = html.find("-->", i + 4);
        i = close == std::string_view::npos ? html.size() : close + 3;
        continue;
      }
      const size_t close = html.find('>', i + 1);
      if (close == std::string_view::npos) break;  // a truncated tag: nothing more to read
      size_t name_begin = i + 1;
      if (name_begin < close && html[name_begin] == '/') ++name_begin;
      size_t name_end = name_begin;
      std::string tag;
      while (name_end < close && std::isalnum(static_cast<unsigned char>(html[name_end]))) {
        tag += static_cast<char>(std::tolower(static_cast<unsigned char>(html[name_end++])));
      }
      if (IsBlockTag(tag)) text += '\n';
      i = close + 1;
    } else if (c == '&') {
      const size_t used = DecodeEntity(html.substr(i), text);
      if (used == 0) text += '&';
      i += used == 0 ? 1 : used;
    } else {
      text += c;
      ++i;
    }
  }
  // Trim each line (ASCII whitespace only, so UTF-8 sequences are untouched).
  std::string out;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + begin, end - begin);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t' || line.front() == '\r'))
      line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.remove_suffix(1);
    if (!line.empty()) {
      if (!out.empty()) out += '\n';
      for (size_t k = 0; k < line.size(); ++k) {
        const bool blank = line[k] == ' ' || line[k] == '\t';
        if (blank && (line[k + 1] == ' ' || line[k + 1] == '\t'))
          continue;  // line ends in non-blank
        out += blank ? ' ' : line[k];
      }
    }
    begin = end + 1;
  }
  return out;
}

// Typed, optional reads of the `post` object. The first problem is kept as the error,
// naming the field; absent and null fields read as nullopt.
class PostReader {
 public:
  explicit PostReader(simdjson::dom::object post) : post_(post) {}

  std::optional<simdjson::dom::element> Get(std::string_view key) const {
    simdjson::dom::element value;
    if (post_.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
    return value;
  }

  std::optional<int64_t> Int(std::string_view key) {
    const auto value = Get(key);
    if (!value) return std::nullopt;
    if (!value->is_int64()) {
      Problem(key, "expected an integer");
      return std::nullopt;
    }
    return value->get_int64().value_unsafe();
  }

  // A count: a non-negative integer, as the post schema's metrics require.
  std::optional<int64_t> Count(std::string_view key) {
    const auto value = Int(key);
    if (value && *value < 0) {
      Problem(key, "expected a non-negative integer");
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::string_view> String(std::string_view key) {
    const auto value = Get(key);
    if (!value) return std::nullopt;
    if (!value->is_string()) {
      Problem(key, "expected a string");
      return std::nullopt;
    }
    return value->get_string().value_unsafe();
  }

  bool Bool(std::string_view key) {
    const auto value = Get(key);
    if (!value) return false;
    if (!value->is_bool()) {
      Problem(key, "expected true or false");
      return false;
    }
    return value->get_bool().value_unsafe();
  }

  void Problem(std::string_view key, std::string_view why) {
    if (!error_) error_ = Fail(fmt::format("post.{}: {}", key, why));
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  simdjson::dom::object post_;
  std::optional<Error> error_;
};

// Likes from actions_summary ([{"id": 2, "count": 3, ...}, ...]), when the forum sends it.
std::optional<int64_t> Likes(PostReader& reader) {
  const auto summary = reader.Get("actions_summary");
  if (!summary) return std::nullopt;
  bool well_formed = summary->is_array();
  std::optional<int64_t> likes;
  simdjson::dom::array actions;
  if (well_formed && summary->get_array().get(actions) == simdjson::SUCCESS) {
    for (const simdjson::dom::element action : actions) {
      int64_t id = 0, count = 0;
      if (!action.is_object() || action["id"].get(id) != simdjson::SUCCESS) {
        well_formed = false;
        break;
      }
      if (id != kLikeActionId) continue;
      const auto count_field = action["count"];
      if (count_field.error() != simdjson::NO_SUCH_FIELD &&
          (count_field.get(count) != simdjson::SUCCESS || count < 0)) {
        well_formed = false;
        break;
      }
      likes = count;
      break;
    }
  }
  if (!well_formed) {
    reader.Problem("actions_summary", "expected an array of {id, count} objects");
    return std::nullopt;
  }
  return likes;
}

// Tags as names: ["a", "b"] or [{"name": "a", ...}, ...]. Post payloads usually carry
// none (tags belong to the topic), so absence is normal.
std::vector<std::string> Tags(PostReader& reader) {
  std::vector<std::string> tags;
  const auto value = reader.Get("tags");
  if (!value) return tags;
  simdjson::dom::array names;
  if (value->get_array().get(names) == simdjson::SUCCESS) {
    for (const simdjson::dom::element tag : names) {
      std::string_view name;
      if (tag.is_string()) {
        name = tag.get_string().value_unsafe();
      } else if (!tag.is_object() || tag["name"].get(name) != simdjson::SUCCESS) {
        reader.Problem("tags", "expected an array of tag names");
        return {};
      }
      tags.emplace_back(name);
    }
    return tags;
  }
  reader.Problem("tags", "expected an array of tag names");
  return {};
}

DiscourseResult Ignored(std::string reason) {
  DiscourseResult result;
  result.outcome = DiscourseOutcome::kIgnored;
  result.reason = std::move(reason);
  return result;
}

// Discourse's event names are lower-case words joined by '_'; anything else is reported
// as one reason so that the reason stays a bounded label.
std::string EventReason(std::string_view event) {
  const bool plain =
      event.size() <= 64 &&
      event.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
  return plain ? std::string(event) : "unknown_event";
}

}  // namespace

Result<DiscourseResult> TranslateDiscourseWebhook(const DiscourseRequest& request,
                                                  std::string_view secret,
                                                  std::string_view community_override) {
  if (request.body.size() > kMaxBodyBytes) {
    return Fail(fmt::format("body: {} bytes, more than the limit of {}", request.body.size(),
                            kMaxBodyBytes));
  }
  if (!secret.empty()) {
    if (Status verified = VerifySignature(request.signature, request.body, secret);
        !verified.ok()) {
      return verified.error();
    }
  }
  // Only the two post events carry a post to monitor; the body of any other event is
  // not even parsed.
  const bool post_event = request.event == "post_created" || request.event == "post_edited";
  if (!post_event && !request.event.empty()) return Ignored(EventReason(request.event));

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const auto code = parser.parse(request.body.data(), request.body.size()).get(root);
      code != simdjson::SUCCESS) {
    return Fail(fmt::format("body: not valid JSON ({})", simdjson::error_message(code)));
  }
  simdjson::dom::object post_object;
  if (!root.is_object()) return Fail("body: expected an object with a 'post' object");
  if (request.event.empty()) {
    // Older Discourse sends a ping with only X-Discourse-Event-Type: ping.
    if (root["ping"].error() == simdjson::SUCCESS) return Ignored("ping");
    return Fail("X-Discourse-Event: missing");
  }
  if (root["post"].get(post_object) != simdjson::SUCCESS) {
    return Fail("body: expected an object with a 'post' object");
  }
  Result<std::string> host = InstanceHost(request.instance);
  if (!host.ok()) return host.error();

  PostReader reader(post_object);
  const std::optional<int64_t> id = reader.Int("id");
  if (reader.error()) return *reader.error();
  if (!id) return Fail("post.id: missing");
  if (*id <= 0) return Fail("post.id: expected a positive integer");

  const std::optional<std::string_view> archetype = reader.String("topic_archetype");
  const std::optional<int64_t> post_type = reader.Int("post_type");
  const bool deleted = reader.Get("deleted_at").has_value() || reader.Bool("user_deleted");
  if (reader.error()) return *reader.error();
  if (archetype == "private_message") return Ignored("private_message");
  if (post_type == kWhisperPostType) return Ignored("whisper");
  if (post_type == kSmallActionPostType) return Ignored("small_action");
  if (deleted) return Ignored("deleted_post");

  const auto raw = reader.String("raw");
  const auto cooked = reader.String("cooked");
  const auto title = reader.String("topic_title");
  const auto created_at = reader.String("created_at");
  const auto username = reader.String("username");
  const auto user_id = reader.Int("user_id");
  const auto category_slug = reader.String("category_slug");
  const auto category_id = reader.Int("category_id");
  const auto topic_slug = reader.String("topic_slug");
  const auto topic_id = reader.Int("topic_id");
  const auto post_number = reader.Int("post_number");
  const auto replies = reader.Count("reply_count");
  const auto likes = Likes(reader);
  const std::vector<std::string> tags = Tags(reader);
  if (reader.error()) return *reader.error();
  if (created_at && !IsRfc3339(*created_at))
    return Fail("post.created_at: expected an RFC 3339 timestamp");

  DiscourseResult result;
  result.outcome = DiscourseOutcome::kPost;
  result.post_id = fmt::format("discourse:{}:{}", *host, *id);
  nlohmann::json post = {{"id", result.post_id}, {"platform", "discourse"}};
  // Prefer raw (the author's Markdown); cooked is rendered HTML and only a fallback.
  if (raw && !raw->empty()) {
    post["body"] = *raw;
  } else if (cooked) {
    post["body"] = CookedToText(*cooked);
  } else if (raw) {
    post["body"] = "";
  } else {
    return Fail("post: neither 'raw' nor 'cooked' is present");
  }
  if (title && !title->empty()) post["title"] = *title;
  if (!community_override.empty()) {
    post["community"] = community_override;
  } else if (category_slug && !category_slug->empty()) {
    post["community"] = *category_slug;
  } else if (category_id) {
    post["community"] = fmt::format("category-{}", *category_id);
  }
  nlohmann::json author = nlohmann::json::object();
  if (user_id)
    author["id"] = std::to_string(*user_id);
  else if (username)
    author["id"] = *username;
  if (username) author["name"] = *username;
  if (!author.empty()) post["author"] = std::move(author);
  if (topic_id && post_number) {
    std::string_view base = request.instance;
    while (base.ends_with('/')) base.remove_suffix(1);
    post["url"] = topic_slug && !topic_slug->empty()
                      ? fmt::format("{}/t/{}/{}/{}", base, *topic_slug, *topic_id, *post_number)
                      : fmt::format("{}/t/{}/{}", base, *topic_id, *post_number);
  }
  if (created_at) post["created_at"] = *created_at;
  nlohmann::json metrics = nlohmann::json::object();
  if (likes) metrics["likes"] = *likes;
  if (replies) metrics["replies"] = *replies;
  if (!metrics.empty()) post["metrics"] = std::move(metrics);
  if (!tags.empty()) post["tags"] = tags;
  // simdjson validated the body as UTF-8 and CookedToText only writes valid sequences.
  result.post_json = post.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return result;
}

}  // namespace vigil::connectors
