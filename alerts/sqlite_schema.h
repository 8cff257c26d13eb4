// The SQLite state store's schema and its migrations. Version 1 was the first; version 2
// added silences, spike buckets, incident tags, held pages and a destination per outbox
// entry.
#pragma once

namespace vigil::alerts {

inline constexpr int kSchemaVersion = 2;

inline constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS incidents (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  category TEXT NOT NULL,
  severity TEXT NOT NULL,
  owner TEXT NOT NULL,
  community TEXT NOT NULL,
  state TEXT NOT NULL,
  opened_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  last_hit_ms INTEGER NOT NULL,
  hits INTEGER NOT NULL,
  acked_by TEXT NOT NULL,
  acked_ms INTEGER NOT NULL,
  resolved_by TEXT NOT NULL,
  resolved_ms INTEGER NOT NULL,
  resolve_after_s INTEGER NOT NULL,
  escalation_level INTEGER NOT NULL,
  next_escalation_ms INTEGER NOT NULL,
  repeats INTEGER NOT NULL DEFAULT 0,
  reminders INTEGER NOT NULL DEFAULT 0,
  last_page_ms INTEGER NOT NULL DEFAULT 0,
  tags TEXT NOT NULL DEFAULT '',
  page_held INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS incidents_active ON incidents(state) WHERE state != 'resolved';
CREATE INDEX IF NOT EXISTS incidents_updated ON incidents(updated_ms);
CREATE TABLE IF NOT EXISTS evidence (
  incident_id INTEGER NOT NULL,
  post_id TEXT NOT NULL,
  url TEXT NOT NULL,
  excerpt TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (incident_id, post_id)
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_incident ON audit(incident_id);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  destination TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(next_attempt_ms) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_incident ON outbox(incident_id);
CREATE TABLE IF NOT EXISTS spike_buckets (
  key TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key, start_ms)
);
CREATE TABLE IF NOT EXISTS silences (
  id INTEGER PRIMARY KEY,
  matchers TEXT NOT NULL,
  starts_ms INTEGER NOT NULL,
  ends_ms INTEGER NOT NULL,
  author TEXT NOT NULL,
  comment TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_hits (
  key TEXT NOT NULL,
  post_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  evidence TEXT NOT NULL,
  PRIMARY KEY (key, post_id)
);
CREATE TABLE IF NOT EXISTS offsets (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
);
)sql";

// From version 1 to 2 (the new table comes from kSchema, run after it).
inline constexpr const char* kMigrateV1ToV2 = R"sql(
ALTER TABLE incidents ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN page_held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN destination TEXT NOT NULL DEFAULT '';
)sql";

}  // namespace vigil::alerts
