#include "alerts/paging_config.h"

#include <algorithm>

#include "alerts/silence.h"

namespace vigil::alerts {

bool RouteMatch::Matches(const Incident& incident) const {
  auto any = [](const auto& list, const auto& value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
  };
  if (!any(categories, incident.category) || !any(severities, incident.severity) ||
      !any(owners, incident.owner)) {
    return false;
  }
  if (severity_at_least && incident.severity < *severity_at_least) return false;
  if (!rules.empty() && std::none_of(rules.begin(), rules.end(), [&](const std::string& pattern) {
        return GlobMatch(pattern, incident.rule_id);
      })) {
    return false;
  }
  if (!tags.empty() && std::none_of(tags.begin(), tags.end(), [&](const std::string& tag) {
        return std::find(incident.tags.begin(), incident.tags.end(), tag) != incident.tags.end();
      })) {
    return false;
  }
  return true;
}

const EscalationPolicy* PagingConfig::PolicyFor(const Incident& incident) const {
  for (const Route& route : routes) {
    if (route.match.Matches(incident)) {
      auto it = policies.find(route.policy);
      if (it != policies.end()) return &it->second;
    }
  }
  auto it = policies.find("default");
  return it == policies.end() ? nullptr : &it->second;
}

std::shared_ptr<const PagingConfig> EmptyPagingConfig() {
  static const auto empty = std::make_shared<const PagingConfig>();
  return empty;
}

}  // namespace vigil::alerts
