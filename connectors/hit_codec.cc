#include "connectors/hit_codec.h"

#include <nlohmann/json.hpp>

#include "core/hash.h"

namespace vigil::connectors {

std::string HitId(std::string_view post_id, std::string_view rule_id) {
  std::string key(post_id);
  key += '\x1f';
  key += rule_id;
  return Sha256Hex(key).substr(0, 32);
}

std::string IncidentKey(const PostView& post, const rules::RuleDef& rule) {
  std::string key = rule.id;
  for (const std::string& by : rule.incident.group_by) {
    std::string_view value;
    if (by == "community") value = post.community;
    else if (by == "platform") value = post.platform;
    else if (by == "author") value = post.author_id.empty() ? post.author_name : post.author_id;
    else if (by == "tag") value = post.tags.empty() ? std::string_view() : post.tags.front();
    key += '|';
    key += by;
    key += '=';
    key += value;
  }
  return key;
}

std::string EncodeHit(const PostView& post, const rules::Hit& hit, bool with_explanation) {
  const rules::RuleDef& rule = hit.rule->def;
  nlohmann::json spans = nlohmann::json::array();
  for (const rules::Span& span : hit.spans) {
    spans.push_back({{"field", rules::FieldName(span.field)}, {"start", span.begin}, {"end", span.end}});
  }
  nlohmann::json out = {
      {"hit_id", HitId(post.id, rule.id)},
      {"post_id", post.id},
      {"rule_id", rule.id},
      {"category", rules::CategoryName(rule.category)},
      {"severity", rules::SeverityName(rule.severity)},
      {"owner", rule.owner},
      {"status", rules::StatusName(rule.status)},
      {"incident_key", IncidentKey(post, rule)},
      {"spans", std::move(spans)},
      {"excerpt", hit.excerpt},
      {"excerpt_field", rules::FieldName(hit.excerpt_field)},
  };
  if (!post.platform.empty()) out["platform"] = post.platform;
  if (!post.community.empty()) out["community"] = post.community;
  if (!post.url.empty()) out["url"] = post.url;
  if (!post.created_at.empty()) out["created_at"] = post.created_at;
  if (rule.sentiment) out["sentiment"] = hit.sentiment;
  if (with_explanation) out["explain"] = hit.explanation;
  // Post text that is not valid UTF-8 never reaches here (the decoder rejects it), but
  // replace rather than throw if it ever did.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vigil::connectors
