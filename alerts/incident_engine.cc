#include "alerts/incident_engine.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vigil::alerts {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string EvidenceJson(const Evidence& e, std::string_view community) {
  return Dump({{"post_id", e.post_id},
               {"url", e.url},
               {"excerpt", e.excerpt},
               {"content_hash", e.content_hash},
               {"at_ms", e.at_ms},
               {"community", community}});
}

std::string Duration(std::chrono::seconds s) {
  const auto n = s.count();
  if (n % 3600 == 0 && n > 0) return fmt::format("{}h", n / 3600);
  if (n % 60 == 0 && n > 0) return fmt::format("{}m", n / 60);
  return fmt::format("{}s", n);
}

constexpr std::chrono::seconds kDefaultSpikeWindow{600};
// Expired silences stay listed (and loaded after a restart) this long.
constexpr int64_t kExpiredSilenceKeepMs = 7LL * 24 * 3600 * 1000;

}  // namespace

std::string_view IncidentStateName(IncidentState state) {
  switch (state) {
    case IncidentState::kOpen:
      return "open";
    case IncidentState::kAcknowledged:
      return "acknowledged";
    case IncidentState::kResolved:
      return "resolved";
  }
  return "open";
}

std::optional<IncidentState> ParseIncidentState(std::string_view name) {
  if (name == "open") return IncidentState::kOpen;
  if (name == "acknowledged") return IncidentState::kAcknowledged;
  if (name == "resolved") return IncidentState::kResolved;
  return std::nullopt;
}

IncidentEngine::IncidentEngine(const Clock& clock, EngineOptions options)
    : clock_(clock), options_(options) {}

Status IncidentEngine::Restore(StateStore& store) {
  auto max_id = store.MaxIncidentId();
  if (!max_id.ok()) return max_id.error();
  next_id_ = *max_id + 1;
  auto active = store.LoadActiveIncidents();
  if (!active.ok()) return active.error();
  for (Incident& incident : *active) {
    keys_[incident.key].active_incident = incident.id;
    evidence_count_[incident.id] =
        options_.max_evidence;  // conservative: no more evidence rows after restart
    Track(incident);
    active_by_id_[incident.id] = std::move(incident);
  }
  auto max_silence = store.MaxSilenceId();
  if (!max_silence.ok()) return max_silence.error();
  next_silence_id_ = *max_silence + 1;
  auto silences = store.LoadSilences(clock_.NowMillis() - kExpiredSilenceKeepMs);
  if (!silences.ok()) return silences.error();
  for (Silence& silence : *silences) silences_[silence.id] = std::move(silence);
  auto buckets = store.LoadSpikeBuckets();
  if (!buckets.ok()) return buckets.error();
  for (const auto& [where, count] : *buckets) keys_[where.first].buckets[where.second] = count;
  auto pending = store.LoadPendingHits();
  if (!pending.ok()) return pending.error();
  for (const PendingHit& p : *pending) {
    json e = json::parse(p.evidence_json, nullptr, false);
    Pending hit;
    hit.at_ms = p.at_ms;
    if (e.is_object()) {
      hit.evidence = {e.value("post_id", p.post_id), e.value("url", ""), e.value("excerpt", ""),
                      e.value("content_hash", ""), p.at_ms};
    } else {
      hit.evidence.post_id = p.post_id;
      hit.evidence.at_ms = p.at_ms;
    }
    keys_[p.key].window.push_back(std::move(hit));
  }
  return Status::Ok();
}

void IncidentEngine::Record(Batch& batch, const Incident& incident, std::string actor,
                            std::string action, std::string detail) const {
  batch.audit.push_back(
      {incident.id, clock_.NowMillis(), std::move(actor), std::move(action), std::move(detail)});
}

void IncidentEngine::Enqueue(const Incident& incident, std::string_view kind, std::string_view step,
                             Batch& batch, const std::vector<std::string>& targets) const {
  // Channel-neutral; the notifiers render it per channel. No post text but the masked
  // excerpts of the evidence, added by the dispatcher from the store.
  const json payload = {{"incident_id", incident.id},
                        {"key", incident.key},
                        {"rule_id", incident.rule_id},
                        {"category", rules::CategoryName(incident.category)},
                        {"severity", rules::SeverityName(incident.severity)},
                        {"owner", incident.owner},
                        {"community", incident.community},
                        {"state", IncidentStateName(incident.state)},
                        {"hits", incident.hits},
                        {"level", incident.escalation_level},
                        {"step", step},
                        {"targets", targets},
                        {"opened_ms", incident.opened_ms},
                        {"acked_by", incident.acked_by},
                        {"resolved_by", incident.resolved_by}};
  batch.outbox.push_back({0, incident.id, fmt::format("incident-{}-{}", incident.id, step),
                          std::string(kind), Dump(payload), clock_.NowMillis()});
}

void IncidentEngine::OnHits(std::span<const HitEvent> hits, Batch& batch) {
  for (const HitEvent& hit : hits) {
    if (hit.experimental) continue;  // counted by the pipeline, never an incident
    KeyState& state = keys_[hit.incident_key];
    const int64_t now_ms = ToMillis(hit.at);
    if (hit.spec.spike) {
      // The baseline counts every hit, also those of an open incident, so that it goes
      // on describing the community's usual volume.
      state.within = hit.spec.within.count() > 0 ? hit.spec.within : kDefaultSpikeWindow;
      CountSpikeHit(hit.incident_key, *hit.spec.spike, state, now_ms, batch);
    }
    if (state.active_incident != 0) {
      auto it = active_by_id_.find(state.active_incident);
      if (it != active_by_id_.end()) {
        AddToIncident(it->second, hit, batch);
        continue;
      }
      state.active_incident = 0;
    }
    const rules::IncidentSpec& spec = hit.spec;
    if (!spec.spike && spec.count <= 1) {
      Open(hit, state, "first hit", batch);
      continue;
    }
    // Count towards the threshold: keep the hit (in memory and in the store).
    state.within =
        spec.spike ? (spec.within.count() > 0 ? spec.within : kDefaultSpikeWindow) : spec.within;
    Pending pending{now_ms, {hit.post_id, hit.url, hit.excerpt, hit.content_hash, now_ms}};
    batch.pending_added.push_back(
        {hit.incident_key, hit.post_id, now_ms, EvidenceJson(pending.evidence, hit.community)});
    state.window.push_back(std::move(pending));
    if (state.within.count() > 0) {
      const int64_t horizon =
          now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(state.within).count();
      while (!state.window.empty() && state.window.front().at_ms < horizon) {
        batch.pending_removed.emplace_back(hit.incident_key, state.window.front().evidence.post_id);
        state.window.pop_front();
      }
    }
    std::string reason;
    if (spec.spike) {
      if (SpikeHolds(*spec.spike, state, now_ms, reason)) Open(hit, state, reason, batch);
    } else if (static_cast<int>(state.window.size()) >= spec.count) {
      reason = spec.within.count() > 0
                   ? fmt::format("{} hits within {}", state.window.size(), Duration(spec.within))
                   : fmt::format("{} hits", state.window.size());
      Open(hit, state, reason, batch);
    }
  }
}

void IncidentEngine::DropBuckets(const std::string& key, KeyState& state, Batch& batch) {
  for (const auto& [start, count] : state.buckets) batch.spike_buckets[{key, start}] = 0;
  state.buckets.clear();
}

void IncidentEngine::CountSpikeHit(const std::string& key, const rules::SpikeSpec& spike,
                                   KeyState& state, int64_t now_ms, Batch& batch) const {
  const int64_t window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(state.within).count();
  const int64_t baseline_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(spike.baseline).count();
  const int64_t bucket_ms = std::max<int64_t>(1000, window_ms / 10);
  const int64_t bucket = now_ms - now_ms % bucket_ms;
  batch.spike_buckets[{key, bucket}] = ++state.buckets[bucket];
  // Forget what is older than the baseline before the window.
  while (!state.buckets.empty() &&
         state.buckets.begin()->first < now_ms - window_ms - baseline_ms - bucket_ms) {
    batch.spike_buckets[{key, state.buckets.begin()->first}] = 0;
    state.buckets.erase(state.buckets.begin());
  }
}

bool IncidentEngine::SpikeHolds(const rules::SpikeSpec& spike, const KeyState& state,
                                int64_t now_ms, std::string& reason) const {
  const int64_t window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(state.within).count();
  const int64_t baseline_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(spike.baseline).count();
  int64_t recent = 0, before = 0;
  for (const auto& [start, count] : state.buckets) {
    (start >= now_ms - window_ms ? recent : before) += count;
  }
  if (recent < spike.min_count) return false;
  const double recent_rate = double(recent) / double(window_ms);
  const double baseline_rate = double(before) / double(std::max<int64_t>(1, baseline_ms));
  if (recent_rate < spike.factor * baseline_rate) return false;
  reason = fmt::format("spike: {} hits in {} vs a baseline of {:.1f} per {} (x{:.1f} or more)",
                       recent, Duration(state.within), baseline_rate * double(window_ms),
                       Duration(state.within), spike.factor);
  return true;
}

void IncidentEngine::Open(const HitEvent& first, KeyState& state, std::string reason,
                          Batch& batch) {
  Incident incident;
  incident.id = next_id_++;
  incident.key = first.incident_key;
  incident.rule_id = first.rule_id;
  incident.category = first.category;
  incident.severity = first.severity;
  incident.owner = first.owner;
  incident.community = first.community;
  incident.tags = first.tags;
  incident.state = IncidentState::kOpen;
  incident.opened_ms = incident.updated_ms = incident.last_hit_ms = ToMillis(first.at);
  incident.resolve_after_s = first.spec.resolve_after.count();
  size_t& evidence = evidence_count_[incident.id];
  if (state.window.empty()) {
    incident.hits = 1;
    batch.evidence.emplace_back(incident.id, Evidence{first.post_id, first.url, first.excerpt,
                                                      first.content_hash, ToMillis(first.at)});
    evidence = 1;
  } else {
    incident.hits = static_cast<int64_t>(state.window.size());
    for (Pending& p : state.window) {
      if (evidence < options_.max_evidence) {
        batch.evidence.emplace_back(incident.id, p.evidence);
        ++evidence;
      }
      batch.pending_removed.emplace_back(first.incident_key, p.evidence.post_id);
    }
    state.window.clear();
  }
  state.active_incident = incident.id;
  Record(batch, incident, "vigil", "opened", reason);
  PageLevel(incident, "open", batch);
  batch.Put(incident);
  Track(incident);
  active_by_id_[incident.id] = std::move(incident);
}

const EscalationPolicy& IncidentEngine::PolicyFor(const Incident& incident) const {
  static const EscalationPolicy kDefault;
  if (options_.policy_for) {
    if (const EscalationPolicy* policy = options_.policy_for(incident)) {
      if (!policy->levels.empty()) return *policy;
    }
  }
  return kDefault;
}

void IncidentEngine::PageLevel(Incident& incident, std::string_view step, Batch& batch) {
  const EscalationPolicy& policy = PolicyFor(incident);
  const int64_t now_ms = clock_.NowMillis();
  const size_t level = std::min<size_t>(incident.escalation_level, policy.levels.size() - 1);
  if (std::string muted = MutedBy(incident, now_ms); !muted.empty()) {
    if (!incident.page_held) Record(batch, incident, "vigil", "page held", muted);
    incident.page_held = true;
  } else {
    Enqueue(incident, "page", step, batch, policy.levels[level].notify);
  }
  incident.last_page_ms = now_ms;
  const bool more = level + 1 < policy.levels.size() || incident.repeats < policy.repeat_last;
  const auto wait =
      std::chrono::duration_cast<std::chrono::milliseconds>(policy.levels[level].ack_within)
          .count();
  incident.next_escalation_ms = more && wait > 0 ? now_ms + wait : 0;
}

void IncidentEngine::Escalate(Incident& incident, int64_t now_ms, Batch& batch) {
  const EscalationPolicy& policy = PolicyFor(incident);
  std::string step;
  if (static_cast<size_t>(incident.escalation_level) + 1 < policy.levels.size()) {
    ++incident.escalation_level;
    step = fmt::format("level-{}", incident.escalation_level);
    Record(batch, incident, "vigil", "escalated",
           fmt::format("not acknowledged in time: level {} paged", incident.escalation_level));
  } else {
    ++incident.repeats;
    step = fmt::format("level-{}-repeat-{}", incident.escalation_level, incident.repeats);
    Record(batch, incident, "vigil", "escalated",
           fmt::format("not acknowledged in time: level {} paged again ({} of {})",
                       incident.escalation_level, incident.repeats, policy.repeat_last));
  }
  incident.updated_ms = now_ms;
  PageLevel(incident, step, batch);
  batch.Put(incident);
}

void IncidentEngine::AddToIncident(Incident& incident, const HitEvent& hit, Batch& batch) {
  const int64_t now_ms = ToMillis(hit.at);
  ++incident.hits;
  incident.last_hit_ms = incident.updated_ms = now_ms;
  size_t& evidence = evidence_count_[incident.id];
  if (evidence < options_.max_evidence) {
    batch.evidence.emplace_back(
        incident.id, Evidence{hit.post_id, hit.url, hit.excerpt, hit.content_hash, now_ms});
    ++evidence;
  }
  batch.Put(incident);
}

void IncidentEngine::Tick(Batch& batch) {
  const int64_t now_ms = clock_.NowMillis();
  for (auto it = active_by_id_.begin(); it != active_by_id_.end();) {
    Incident& incident = it->second;
    const bool muted = incident.state == IncidentState::kOpen && !MutedBy(incident, now_ms).empty();
    if (incident.state == IncidentState::kOpen && !muted) {
      if (incident.page_held) {
        // The silence ended (or the critical incident was resolved): page the current
        // level now and start its acknowledgement clock again.
        incident.page_held = false;
        Record(batch, incident, "vigil", "page released",
               fmt::format("no longer silenced or inhibited: level {} paged",
                           incident.escalation_level));
        incident.updated_ms = now_ms;
        PageLevel(incident, fmt::format("level-{}-released-{}", incident.escalation_level, now_ms),
                  batch);
        batch.Put(incident);
      } else if (incident.next_escalation_ms > 0 && now_ms >= incident.next_escalation_ms) {
        Escalate(incident, now_ms, batch);
      } else if (const auto every = PolicyFor(incident).renotify_every;
                 every.count() > 0 && now_ms - incident.last_page_ms >= every.count() * 1000) {
        ++incident.reminders;
        incident.last_page_ms = now_ms;
        Enqueue(incident, "reminder", fmt::format("reminder-{}", incident.reminders), batch,
                PolicyFor(incident)
                    .levels[std::min<size_t>(incident.escalation_level,
                                             PolicyFor(incident).levels.size() - 1)]
                    .notify);
        batch.Put(incident);
      }
    } else if (muted && !incident.page_held &&
               ((incident.next_escalation_ms > 0 && now_ms >= incident.next_escalation_ms) ||
                (PolicyFor(incident).renotify_every.count() > 0 &&
                 now_ms - incident.last_page_ms >=
                     PolicyFor(incident).renotify_every.count() * 1000))) {
      // A step fell due while muted: hold it, once, and say so in the timeline.
      incident.page_held = true;
      Record(batch, incident, "vigil", "page held", MutedBy(incident, now_ms));
      batch.Put(incident);
    }
    if (incident.resolve_after_s > 0 &&
        now_ms - incident.last_hit_ms >= incident.resolve_after_s * 1000) {
      incident.state = IncidentState::kResolved;
      incident.resolved_by = "vigil";
      incident.resolved_ms = incident.updated_ms = now_ms;
      incident.next_escalation_ms = 0;
      incident.page_held = false;
      Record(
          batch, incident, "vigil", "resolved",
          fmt::format("no hits for {}", Duration(std::chrono::seconds(incident.resolve_after_s))));
      Enqueue(incident, "resolve", "resolve", batch);
      batch.Put(incident);
      keys_[incident.key].active_incident = 0;
      evidence_count_.erase(incident.id);
      Untrack(incident);
      it = active_by_id_.erase(it);
      continue;
    }
    ++it;
  }
  const int64_t max_age_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.max_pending_age).count();
  for (auto it = keys_.begin(); it != keys_.end();) {
    KeyState& state = it->second;
    const int64_t within_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(state.within).count();
    const int64_t horizon = now_ms - (within_ms > 0 ? within_ms : max_age_ms);
    while (!state.window.empty() && state.window.front().at_ms < horizon) {
      batch.pending_removed.emplace_back(it->first, state.window.front().evidence.post_id);
      state.window.pop_front();
    }
    if (state.window.empty() && state.active_incident == 0 &&
        (state.buckets.empty() || state.buckets.rbegin()->first < now_ms - max_age_ms)) {
      DropBuckets(it->first, state, batch);
      it = keys_.erase(it);
      continue;
    }
    ++it;
  }
}

Result<Incident> IncidentEngine::Acknowledge(int64_t id, const std::string& actor, Batch& batch) {
  auto it = active_by_id_.find(id);
  if (it == active_by_id_.end()) return Error{fmt::format("incident {} is not open", id)};
  Incident& incident = it->second;
  if (incident.state == IncidentState::kAcknowledged) return incident;  // idempotent
  const int64_t now_ms = clock_.NowMillis();
  incident.state = IncidentState::kAcknowledged;
  incident.acked_by = actor;
  incident.acked_ms = incident.updated_ms = now_ms;
  incident.next_escalation_ms = 0;  // acknowledgement stops the escalation
  incident.page_held = false;
  Record(batch, incident, actor, "acknowledged", "");
  // Tells whoever was paged that someone has it (PagerDuty: the acknowledge event).
  Enqueue(incident, "acknowledge", "ack", batch);
  batch.Put(incident);
  return incident;
}

Result<Incident> IncidentEngine::Resolve(int64_t id, const std::string& actor,
                                         const std::string& comment, Batch& batch) {
  auto it = active_by_id_.find(id);
  if (it == active_by_id_.end()) return Error{fmt::format("incident {} is not open", id)};
  Incident incident = std::move(it->second);
  Untrack(incident);
  active_by_id_.erase(it);
  evidence_count_.erase(id);
  keys_[incident.key].active_incident = 0;
  const int64_t now_ms = clock_.NowMillis();
  incident.state = IncidentState::kResolved;
  incident.resolved_by = actor;
  incident.resolved_ms = incident.updated_ms = now_ms;
  incident.next_escalation_ms = 0;
  incident.page_held = false;
  Record(batch, incident, actor, "resolved", comment);
  Enqueue(incident, "resolve", "resolve", batch);
  batch.Put(incident);
  return incident;
}

std::string IncidentEngine::MutedBy(const Incident& incident, int64_t now_ms) const {
  for (const auto& [id, silence] : silences_) {
    if (silence.ActiveAt(now_ms) && silence.Matches(incident)) {
      return fmt::format("silenced by silence {} ({}: {})", id, silence.author, silence.comment);
    }
  }
  if (incident.severity < rules::Severity::kCritical && !incident.community.empty()) {
    auto critical = critical_by_community_.find(incident.community);
    if (critical != critical_by_community_.end() && !critical->second.empty()) {
      return fmt::format("inhibited by critical incident {} in {}", *critical->second.begin(),
                         incident.community);
    }
  }
  return "";
}

void IncidentEngine::Track(const Incident& incident) {
  if (incident.severity == rules::Severity::kCritical && !incident.community.empty()) {
    critical_by_community_[incident.community].insert(incident.id);
  }
}

void IncidentEngine::Untrack(const Incident& incident) {
  auto it = critical_by_community_.find(incident.community);
  if (it == critical_by_community_.end()) return;
  it->second.erase(incident.id);
  if (it->second.empty()) critical_by_community_.erase(it);
}

Result<Silence> IncidentEngine::AddSilence(Silence silence, Batch& batch) {
  silence.created_ms = clock_.NowMillis();
  if (silence.starts_ms == 0) silence.starts_ms = silence.created_ms;
  if (Status valid = ValidateSilence(silence); !valid.ok()) return valid.error();
  if (silence.ends_ms <= silence.created_ms)
    return Error{"ends_ms: the silence would already be over"};
  silence.id = next_silence_id_++;
  batch.silences.push_back(silence);
  silences_[silence.id] = silence;
  return silence;
}

Result<Silence> IncidentEngine::ExpireSilence(int64_t id, const std::string& actor, Batch& batch) {
  auto it = silences_.find(id);
  if (it == silences_.end()) return Error{fmt::format("no such silence: {}", id)};
  Silence& silence = it->second;
  const int64_t now_ms = clock_.NowMillis();
  if (silence.ends_ms > now_ms) {
    silence.ends_ms = std::max(now_ms, silence.starts_ms);
    silence.comment += fmt::format(" [expired by {}]", actor);
    batch.silences.push_back(silence);
  }
  return silence;
}

std::vector<Silence> IncidentEngine::Silences() const {
  std::vector<Silence> out;
  const int64_t horizon = clock_.NowMillis() - kExpiredSilenceKeepMs;
  for (const auto& [id, silence] : silences_) {
    if (silence.ends_ms >= horizon) out.push_back(silence);
  }
  return out;
}

}  // namespace vigil::alerts
