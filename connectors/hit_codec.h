// The hit JSON that goes to the hits topic and out of `vigilctl match`.
#pragma once

#include <string>
#include <string_view>

#include "connectors/post.h"
#include "rules/matcher.h"

namespace vigil::connectors {

// Deterministic: the same post and rule always give the same id, so a hit published
// twice (at-least-once) is recognisably the same hit. First 16 bytes of SHA-256, hex.
std::string HitId(std::string_view post_id, std::string_view rule_id);

// The incident key: the rule id plus the rule's incident.group_by values, e.g.
// "complaint.refund_delay|community=acme-forum".
std::string IncidentKey(const PostView& post, const rules::RuleDef& rule);

// {hit_id, post_id, rule_id, category, severity, owner, status, incident_key, spans,
//  excerpt, excerpt_field, platform, community, url, created_at[, sentiment][, explain]}.
// Masked values never appear: the excerpt is already masked and spans are offsets only.
std::string EncodeHit(const PostView& post, const rules::Hit& hit, bool with_explanation);

}  // namespace vigil::connectors
