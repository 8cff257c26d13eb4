// Escalation policies: who is paged, and when the next level is paged as well if nobody
// acknowledges. Chosen per incident by routes (category, severity, owner, tags) in the
// paging configuration; the engine asks through a PolicyLookup.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "alerts/incident.h"

namespace vigil::alerts {

struct EscalationLevel {
  // Targets: "owner" (the rule's owner role), "role:<id>", "person:<id>". The dispatcher
  // resolves roles to whoever is on call and each person to their channel.
  std::vector<std::string> notify;
  std::chrono::seconds ack_within{0};  // unacknowledged this long: page the next level too
};

struct EscalationPolicy {
  std::string name = "default";
  std::vector<EscalationLevel> levels = {{{"owner"}, std::chrono::seconds(0)}};
  int repeat_last = 0;                     // page the last level again this many times
  std::chrono::seconds renotify_every{0};  // remind while open (never more often); 0: never
};

// The policy for an incident; null means the default policy (page the owner once).
using PolicyLookup = std::function<const EscalationPolicy*(const Incident&)>;

}  // namespace vigil::alerts
