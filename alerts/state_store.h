// Where incident state lives, durably. One Batch is one transaction: the incident
// changes, their evidence and audit entries, the pages to send (outbox), the hits still
// counting towards a threshold, and the Kafka offsets consumed up to this point. So the
// effect of a post is exactly once: after a crash the consumer resumes from the offsets
// stored with the state they produced.
//
// SQLite (the default, in state.dir) implements it; a PostgreSQL store will, for
// scale-out. Thread safety: implementations serialise calls internally.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "alerts/incident.h"
#include "alerts/silence.h"
#include "core/result.h"

namespace vigil::alerts {

// A page (or other notification) waiting to be delivered.
struct OutboxEntry {
  int64_t id = 0;  // assigned by the store
  int64_t incident_id = 0;
  std::string idempotency_key;  // incident id + step: the same step never enqueues twice
  std::string kind;             // page | reminder | acknowledge | resolve
  std::string payload;          // JSON, channel-neutral
  int64_t created_ms = 0;
  int attempts = 0;  // failed attempts so far
  // Empty: a decision naming targets (roles, people), expanded by the pager into one
  // entry per destination channel, each named here and delivered on its own.
  std::string destination;
};

// What happened to one delivery, for the incident's detail: was the page delivered?
struct DeliveryStatus {
  std::string idempotency_key;
  std::string kind;
  std::string destination;
  std::string state;  // pending | delivered | dead
  int attempts = 0;
  std::string last_error;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;  // delivered at, or the next attempt
};

// A hit counting towards a rule's threshold (not yet an incident).
struct PendingHit {
  std::string key;
  std::string post_id;
  int64_t at_ms = 0;
  std::string evidence_json;  // the HitEvent's evidence fields, to attach when it opens
};

struct Batch {
  std::vector<Incident> incidents;                     // upserts by id
  std::vector<std::pair<int64_t, Evidence>> evidence;  // (incident id, evidence)
  std::vector<AuditEntry> audit;
  std::vector<OutboxEntry> outbox;
  std::vector<PendingHit> pending_added;
  std::vector<std::pair<std::string, std::string>> pending_removed;  // (key, post id)
  std::map<std::pair<std::string, int32_t>, int64_t> offsets;  // (topic, partition) -> next offset
  std::vector<Silence> silences;                               // upserts by id
  // Spike rules' hit counts per time bucket, so that a restart keeps the rolling baseline
  // (an empty baseline would make any burst look like a spike): (key, bucket start ms)
  // -> count; a count of 0 removes the bucket.
  std::map<std::pair<std::string, int64_t>, int64_t> spike_buckets;

  // Records an incident's new state: once per incident and batch (a later change
  // replaces the earlier one in place), in the order incidents were first changed.
  void Put(const Incident& incident) {
    auto [slot, fresh] = incident_slots.try_emplace(incident.id, incidents.size());
    if (fresh) {
      incidents.push_back(incident);
    } else {
      incidents[slot->second] = incident;
    }
  }
  std::unordered_map<int64_t, size_t> incident_slots;  // id -> index in incidents (Put)

  bool empty() const {
    return incidents.empty() && evidence.empty() && audit.empty() && outbox.empty() &&
           pending_added.empty() && pending_removed.empty() && offsets.empty() &&
           silences.empty() && spike_buckets.empty();
  }
};

struct IncidentFilter {
  std::optional<IncidentState> state;
  std::optional<rules::Category> category;
  std::optional<rules::Severity> severity;
  std::string owner;
  int64_t since_ms = 0;  // opened or updated at or after
  int limit = 100;
};

struct IncidentDetail {
  Incident incident;
  std::vector<Evidence> evidence;
  std::vector<AuditEntry> timeline;
  std::vector<DeliveryStatus> deliveries;  // per destination, oldest first
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Applies every change of the batch in one durable transaction, or none.
  virtual Status Apply(const Batch& batch) = 0;

  virtual Result<std::map<int32_t, int64_t>> LoadOffsets(const std::string& topic) = 0;
  virtual Result<std::vector<Incident>> LoadActiveIncidents() = 0;
  virtual Result<std::vector<PendingHit>> LoadPendingHits() = 0;
  virtual Result<std::map<std::pair<std::string, int64_t>, int64_t>> LoadSpikeBuckets() = 0;
  virtual Result<int64_t> MaxIncidentId() = 0;
  // Silences that end at or after `ended_since_ms` (active, pending and recently expired).
  virtual Result<std::vector<Silence>> LoadSilences(int64_t ended_since_ms) = 0;
  virtual Result<int64_t> MaxSilenceId() = 0;

  virtual Result<std::vector<Incident>> ListIncidents(const IncidentFilter& filter) = 0;
  virtual Result<std::optional<IncidentDetail>> GetIncident(int64_t id) = 0;
  // Entries still to deliver, oldest first; with `due_ms`, only those whose next
  // attempt is due by then.
  virtual Result<std::vector<OutboxEntry>> PendingOutbox(int limit, int64_t due_ms = INT64_MAX) = 0;
  virtual Status MarkDelivered(int64_t outbox_id, int64_t at_ms) = 0;
  // A failed attempt: retry at `next_attempt_ms`, or give up (`dead`: visible, alerted).
  virtual Status MarkFailed(int64_t outbox_id, int attempts, int64_t next_attempt_ms,
                            const std::string& error, bool dead) = 0;
  // Replaces a decision (an entry without destination) by its deliveries, one per
  // destination, and records who was paged, in one transaction: the decision is marked
  // delivered. A child whose idempotency key exists already is left as it is, so an
  // expansion repeated after a crash sends nothing twice.
  virtual Status Expand(int64_t parent_id, const std::vector<OutboxEntry>& children,
                        const std::vector<AuditEntry>& audit, int64_t at_ms) = 0;
  // The destinations an incident's pages and reminders went (or are going) to.
  virtual Result<std::vector<std::string>> PagedDestinations(int64_t incident_id) = 0;
  struct OutboxCounts {
    int64_t pending = 0;
    int64_t delivered = 0;
    int64_t dead = 0;
  };
  virtual Result<OutboxCounts> CountOutbox() = 0;
};

// The SQLite store: WAL journal, synchronous=FULL, schema created on first open.
// An error names the file and SQLite's reason.
Result<std::unique_ptr<StateStore>> OpenSqliteStore(const std::string& path);

}  // namespace vigil::alerts
