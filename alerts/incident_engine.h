// Turns hits into incidents (thresholds, spikes), and incidents through their states
// (acknowledge, resolve, auto-resolve after quiet). Every decision is written into a
// Batch that the caller commits to the StateStore in one transaction, together with the
// consumed offsets: the engine's memory is a cache of what the store holds, rebuilt by
// Restore() after a restart.
//
// Thread safety: none; the AlertSink serialises calls.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <unordered_map>

#include "alerts/escalation.h"
#include "alerts/incident.h"
#include "alerts/silence.h"
#include "alerts/state_store.h"
#include "core/clock.h"

namespace vigil::alerts {

struct EngineOptions {
  size_t max_evidence = 50;  // posts kept per incident (the first ones: how it started)
  std::chrono::hours max_pending_age{24};  // threshold hits older than this are dropped
  PolicyLookup policy_for;                 // null or returning null: page the owner once
};

class IncidentEngine {
 public:
  IncidentEngine(const Clock& clock, EngineOptions options = {});

  // Reloads active incidents and threshold windows from the store.
  Status Restore(StateStore& store);

  void OnHits(std::span<const HitEvent> hits, Batch& batch);
  // Time-driven changes (auto-resolve, expiry of threshold windows).
  void Tick(Batch& batch);

  // A person's actions. Errors: unknown incident, or not allowed in its state.
  Result<Incident> Acknowledge(int64_t id, const std::string& actor, Batch& batch);
  Result<Incident> Resolve(int64_t id, const std::string& actor, const std::string& comment,
                           Batch& batch);

  // Silences (validated here; the id is assigned). Expiring sets the end to now.
  Result<Silence> AddSilence(Silence silence, Batch& batch);
  Result<Silence> ExpireSilence(int64_t id, const std::string& actor, Batch& batch);
  // Active, pending and recently expired silences, by id.
  std::vector<Silence> Silences() const;

  // Why pages of this incident are held back now: a silence or an inhibition by a
  // critical incident in the same community; empty when they are not.
  std::string MutedBy(const Incident& incident, int64_t now_ms) const;

  size_t active_incidents() const { return active_by_id_.size(); }
  void ForEachActive(const std::function<void(const Incident&)>& visit) const {
    for (const auto& [id, incident] : active_by_id_) visit(incident);
  }
  size_t tracked_keys() const { return keys_.size(); }

 private:
  struct Pending {
    int64_t at_ms = 0;
    Evidence evidence;
  };
  struct KeyState {
    std::deque<Pending> window;          // hits counting towards the threshold
    std::map<int64_t, int64_t> buckets;  // spike: bucket start ms -> hits
    int64_t active_incident = 0;         // 0: none
    std::chrono::seconds within{0};
  };

  void Open(const HitEvent& first, KeyState& state, std::string reason, Batch& batch);
  void AddToIncident(Incident& incident, const HitEvent& hit, Batch& batch);
  void CountSpikeHit(const std::string& key, const rules::SpikeSpec& spike, KeyState& state,
                     int64_t now_ms, Batch& batch) const;
  bool SpikeHolds(const rules::SpikeSpec& spike, const KeyState& state, int64_t now_ms,
                  std::string& reason) const;
  // The index of open critical incidents by community (inhibition), kept with
  // active_by_id_.
  void Track(const Incident& incident);
  void Untrack(const Incident& incident);
  static void DropBuckets(const std::string& key, KeyState& state, Batch& batch);
  void Enqueue(const Incident& incident, std::string_view kind, std::string_view step, Batch& batch,
               const std::vector<std::string>& targets = {}) const;
  const EscalationPolicy& PolicyFor(const Incident& incident) const;
  // Pages the incident's current level and schedules the next step.
  void PageLevel(Incident& incident, std::string_view step, Batch& batch);
  void Escalate(Incident& incident, int64_t now_ms, Batch& batch);
  void Record(Batch& batch, const Incident& incident, std::string actor, std::string action,
              std::string detail) const;

  const Clock& clock_;
  const EngineOptions options_;
  std::unordered_map<std::string, KeyState> keys_;
  std::map<int64_t, Incident> active_by_id_;
  std::map<int64_t, size_t> evidence_count_;
  std::map<int64_t, Silence> silences_;
  std::unordered_map<std::string, std::set<int64_t>> critical_by_community_;
  int64_t next_id_ = 1;
  int64_t next_silence_id_ = 1;
};

}  // namespace vigil::alerts
