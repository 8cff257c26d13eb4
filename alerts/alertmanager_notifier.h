// Alertmanager API v2: POST {base_url}/api/v2/alerts with a one-alert array, so teams
// that already run Alertmanager can route, group and silence Vigil's incidents there.
//
// labels (stable for the incident, so every step updates the same alert):
//   alertname = rule id, vigil_incident = id, severity, category, owner, community, plus
//   configured extra labels; empty values are left out.
// annotations: summary (headline), description (facts and masked excerpts, "…and N more"
//   past max_description_bytes), incident_url, ack_url, hits, escalation_level, state,
//   idempotency_key, mentions.
// startsAt: when the incident opened; endsAt: now for "resolve", otherwise now +
//   firing_ttl (each reminder renews it; Alertmanager resolves it by itself if Vigil goes
//   silent for that long). generatorURL: the incident link.
// Alertmanager has no acknowledgement: an "acknowledge" step updates the state annotation.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "alerts/notifier.h"
#include "core/result.h"

namespace vigil::alerts {

struct AlertmanagerConfig {
  std::string base_url;  // http://alertmanager:9093 (a path prefix is kept)
  std::vector<std::pair<std::string, std::string>> headers;       // e.g. Authorization
  std::vector<std::pair<std::string, std::string>> extra_labels;  // e.g. {"source", "vigil"}
  std::chrono::milliseconds firing_ttl = std::chrono::hours(24);
  size_t max_description_bytes = 16 * 1024;
};

Result<std::unique_ptr<Notifier>> MakeAlertmanagerNotifier(AlertmanagerConfig config);

}  // namespace vigil::alerts
