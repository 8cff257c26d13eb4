// The SQLite state store. One connection, serialised by a mutex; WAL so readers (the
// API) do not block the writer for long; synchronous=FULL so a committed batch survives
// power loss.
#include <sqlite3.h>

#include <mutex>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "alerts/sqlite_schema.h"
#include "alerts/sqlite_statement.h"
#include "alerts/state_store.h"

namespace vigil::alerts {
namespace {

constexpr const char* kIncidentColumns =
    "id, key, rule_id, category, severity, owner, community, state, opened_ms, updated_ms, "
    "last_hit_ms, hits, "
    "acked_by, acked_ms, resolved_by, resolved_ms, resolve_after_s, escalation_level, "
    "next_escalation_ms, repeats, reminders, last_page_ms, tags, page_held";

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const std::string& tag : tags) {
    if (!out.empty()) out += ',';
    out += tag;
  }
  return out;
}

std::vector<std::string> SplitTags(const std::string& joined) {
  std::vector<std::string> tags;
  size_t start = 0;
  while (start < joined.size()) {
    size_t comma = joined.find(',', start);
    if (comma == std::string::npos) comma = joined.size();
    if (comma > start) tags.push_back(joined.substr(start, comma - start));
    start = comma + 1;
  }
  return tags;
}

std::string MatchersJson(const std::map<std::string, std::string>& matchers) {
  return nlohmann::json(matchers).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::map<std::string, std::string> ParseMatchers(const std::string& text) {
  std::map<std::string, std::string> matchers;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return matchers;
  for (const auto& [field, value] : j.items()) {
    if (value.is_string()) matchers[field] = value.get<std::string>();
  }
  return matchers;
}

Incident ReadIncident(const Statement& s) {
  Incident i;
  i.id = s.Int(0);
  i.key = s.Text(1);
  i.rule_id = s.Text(2);
  i.category = rules::ParseCategory(s.Text(3)).value_or(rules::Category::kComplaint);
  i.severity = rules::ParseSeverity(s.Text(4)).value_or(rules::Severity::kMedium);
  i.owner = s.Text(5);
  i.community = s.Text(6);
  i.state = ParseIncidentState(s.Text(7)).value_or(IncidentState::kOpen);
  i.opened_ms = s.Int(8);
  i.updated_ms = s.Int(9);
  i.last_hit_ms = s.Int(10);
  i.hits = s.Int(11);
  i.acked_by = s.Text(12);
  i.acked_ms = s.Int(13);
  i.resolved_by = s.Text(14);
  i.resolved_ms = s.Int(15);
  i.resolve_after_s = s.Int(16);
  i.escalation_level = static_cast<int>(s.Int(17));
  i.next_escalation_ms = s.Int(18);
  i.repeats = static_cast<int>(s.Int(19));
  i.reminders = static_cast<int>(s.Int(20));
  i.last_page_ms = s.Int(21);
  i.tags = SplitTags(s.Text(22));
  i.page_held = s.Int(23) != 0;
  return i;
}

class SqliteStore : public StateStore {
 public:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteStore() override { sqlite3_close(db_); }

  Status Apply(const Batch& batch) override {
    if (batch.empty()) return Status::Ok();
    std::lock_guard lock(mutex_);
    if (Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Status status = ApplyLocked(batch);
    if (!status.ok()) {
      (void)Exec("ROLLBACK");  // the original error is the one to report
      return status;
    }
    return Exec("COMMIT");
  }

  Result<std::map<int32_t, int64_t>> LoadOffsets(const std::string& topic) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT partition, next_offset FROM offsets WHERE topic = ?");
    if (!s.ok()) return Failure("prepare");
    s.Bind(1, topic);
    std::map<int32_t, int64_t> offsets;
    while (s.Step() == SQLITE_ROW) offsets[static_cast<int32_t>(s.Int(0))] = s.Int(1);
    return offsets;
  }

  Result<std::vector<Incident>> LoadActiveIncidents() override {
    std::lock_guard lock(mutex_);
    const std::string sql =
        std::string("SELECT ") + kIncidentColumns + " FROM incidents WHERE state != 'resolved'";
    Statement s(db_, sql.c_str());
    if (!s.ok()) return Failure("prepare");
    std::vector<Incident> out;
    while (s.Step() == SQLITE_ROW) out.push_back(ReadIncident(s));
    return out;
  }

  Result<std::vector<PendingHit>> LoadPendingHits() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT key, post_id, at_ms, evidence FROM pending_hits ORDER BY at_ms");
    if (!s.ok()) return Failure("prepare");
    std::vector<PendingHit> out;
    while (s.Step() == SQLITE_ROW) out.push_back({s.Text(0), s.Text(1), s.Int(2), s.Text(3)});
    return out;
  }

  Result<std::map<std::pair<std::string, int64_t>, int64_t>> LoadSpikeBuckets() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT key, start_ms, count FROM spike_buckets");
    if (!s.ok()) return Failure("prepare");
    std::map<std::pair<std::string, int64_t>, int64_t> out;
    while (s.Step() == SQLITE_ROW) out[{s.Text(0), s.Int(1)}] = s.Int(2);
    return out;
  }

  Result<int64_t> MaxIncidentId() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT COALESCE(MAX(id), 0) FROM incidents");
    if (!s.ok() || s.Step() != SQLITE_ROW) return Failure("max id");
    return s.Int(0);
  }

  Result<std::vector<Silence>> LoadSilences(int64_t ended_since_ms) override {
    std::lock_guard lock(mutex_);
    Statement s(
        db_,
        "SELECT id, matchers, starts_ms, ends_ms, author, comment, created_ms FROM silences "
        "WHERE ends_ms >= ? ORDER BY id");
    if (!s.ok()) return Failure("prepare");
    s.Bind(1, ended_since_ms);
    std::vector<Silence> out;
    while (s.Step() == SQLITE_ROW) {
      out.push_back(
          {s.Int(0), ParseMatchers(s.Text(1)), s.Int(2), s.Int(3), s.Text(4), s.Text(5), s.Int(6)});
    }
    return out;
  }

  Result<int64_t> MaxSilenceId() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT COALESCE(MAX(id), 0) FROM silences");
    if (!s.ok() || s.Step() != SQLITE_ROW) return Failure("max silence id");
    return s.Int(0);
  }

  Status Expand(int64_t parent_id, const std::vector<OutboxEntry>& children,
                const std::vector<AuditEntry>& audit, int64_t at_ms) override {
    std::lock_guard lock(mutex_);
    if (Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Status status = [&]() -> Status {
      Statement insert(db_,
                       "INSERT OR IGNORE INTO outbox (incident_id, idempotency_key, kind, payload, "
                       "created_ms, destination) VALUES (?,?,?,?,?,?)");
      for (const OutboxEntry& child : children) {
        if (Status s = InsertOutbox(insert, child); !s.ok()) return s;
      }
      Statement a(
          db_, "INSERT INTO audit (incident_id, at_ms, actor, action, detail) VALUES (?,?,?,?,?)");
      for (const AuditEntry& entry : audit) {
        a.Bind(1, entry.incident_id)
            .Bind(2, entry.at_ms)
            .Bind(3, entry.actor)
            .Bind(4, entry.action)
            .Bind(5, entry.detail);
        if (a.Step() != SQLITE_DONE) return Failure("write audit");
        a.Reset();
      }
      Statement done(db_,
                     "UPDATE outbox SET state = 'delivered', next_attempt_ms = ? WHERE id = ?");
      done.Bind(1, at_ms).Bind(2, parent_id);
      if (done.Step() != SQLITE_DONE) return Failure("mark expanded");
      return Status::Ok();
    }();
    if (!status.ok()) {
      (void)Exec("ROLLBACK");
      return status;
    }
    return Exec("COMMIT");
  }

  Result<std::vector<std::string>> PagedDestinations(int64_t incident_id) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT DISTINCT destination FROM outbox WHERE incident_id = ? AND destination != "
                "'' AND kind IN ('page', 'reminder') ORDER BY destination");
    if (!s.ok()) return Failure("prepare");
    s.Bind(1, incident_id);
    std::vector<std::string> out;
    while (s.Step() == SQLITE_ROW) out.push_back(s.Text(0));
    return out;
  }

  Result<std::vector<Incident>> ListIncidents(const IncidentFilter& filter) override {
    std::lock_guard lock(mutex_);
    std::string sql = std::string("SELECT ") + kIncidentColumns +
                      " FROM incidents WHERE updated_ms >= ?1"
                      " AND (?2 = '' OR state = ?2) AND (?3 = '' OR category = ?3)"
                      " AND (?4 = '' OR severity = ?4) AND (?5 = '' OR owner = ?5)"
                      " ORDER BY updated_ms DESC, id DESC LIMIT ?6";
    Statement s(db_, sql.c_str());
    if (!s.ok()) return Failure("prepare");
    s.Bind(1, filter.since_ms);
    s.Bind(2, filter.state ? std::string(IncidentStateName(*filter.state)) : std::string());
    s.Bind(3, filter.category ? std::string(rules::CategoryName(*filter.category)) : std::string());
    s.Bind(4, filter.severity ? std::string(rules::SeverityName(*filter.severity)) : std::string());
    s.Bind(5, filter.owner);
    s.Bind(6, static_cast<int64_t>(filter.limit));
    std::vector<Incident> out;
    while (s.Step() == SQLITE_ROW) out.push_back(ReadIncident(s));
    return out;
  }

  Result<std::optional<IncidentDetail>> GetIncident(int64_t id) override {
    std::lock_guard lock(mutex_);
    const std::string sql =
        std::string("SELECT ") + kIncidentColumns + " FROM incidents WHERE id = ?";
    Statement s(db_, sql.c_str());
    if (!s.ok()) return Failure("prepare");
    s.Bind(1, id);
    if (s.Step() != SQLITE_ROW) return std::optional<IncidentDetail>();
    IncidentDetail detail;
    detail.incident = ReadIncident(s);
    Statement e(db_,
                "SELECT post_id, url, excerpt, content_hash, at_ms FROM evidence WHERE incident_id "
                "= ? ORDER BY at_ms");
    e.Bind(1, id);
    while (e.Step() == SQLITE_ROW)
      detail.evidence.push_back({e.Text(0), e.Text(1), e.Text(2), e.Text(3), e.Int(4)});
    Statement a(db_,
                "SELECT at_ms, actor, action, detail FROM audit WHERE incident_id = ? ORDER BY id");
    a.Bind(1, id);
    while (a.Step() == SQLITE_ROW)
      detail.timeline.push_back({id, a.Int(0), a.Text(1), a.Text(2), a.Text(3)});
    Statement o(db_,
                "SELECT idempotency_key, kind, destination, state, attempts, last_error, "
                "created_ms, next_attempt_ms FROM outbox WHERE incident_id = ? AND destination "
                "!= '' ORDER BY id");
    o.Bind(1, id);
    while (o.Step() == SQLITE_ROW) {
      detail.deliveries.push_back({o.Text(0), o.Text(1), o.Text(2), o.Text(3),
                                   static_cast<int>(o.Int(4)), o.Text(5), o.Int(6), o.Int(7)});
    }
    return std::optional<IncidentDetail>(std::move(detail));
  }

  Result<std::vector<OutboxEntry>> PendingOutbox(int limit, int64_t due_ms) override {
    std::lock_guard lock(mutex_);
    Statement s(
        db_,
        "SELECT id, incident_id, idempotency_key, kind, payload, created_ms, attempts, destination "
        "FROM outbox "
        "WHERE state = 'pending' AND next_attempt_ms <= ? ORDER BY id LIMIT ?");
    if (!s.ok()) return Failure("prepare");
    s.Bind(1, due_ms).Bind(2, static_cast<int64_t>(limit));
    std::vector<OutboxEntry> out;
    while (s.Step() == SQLITE_ROW) {
      OutboxEntry e{
          s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Int(5), static_cast<int>(s.Int(6)),
          s.Text(7)};
      out.push_back(std::move(e));
    }
    return out;
  }

  Status MarkDelivered(int64_t outbox_id, int64_t at_ms) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "UPDATE outbox SET state = 'delivered', next_attempt_ms = ? WHERE id = ?");
    s.Bind(1, at_ms).Bind(2, outbox_id);
    if (s.Step() != SQLITE_DONE) return Failure("mark delivered");
    return Status::Ok();
  }

  Status MarkFailed(int64_t outbox_id, int attempts, int64_t next_attempt_ms,
                    const std::string& error, bool dead) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "UPDATE outbox SET state = ?, attempts = ?, next_attempt_ms = ?, last_error = ? "
                "WHERE id = ?");
    s.Bind(1, std::string(dead ? "dead" : "pending"))
        .Bind(2, static_cast<int64_t>(attempts))
        .Bind(3, next_attempt_ms)
        .Bind(4, error)
        .Bind(5, outbox_id);
    if (s.Step() != SQLITE_DONE) return Failure("mark failed");
    return Status::Ok();
  }

  Result<OutboxCounts> CountOutbox() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT state, COUNT(*) FROM outbox GROUP BY state");
    if (!s.ok()) return Failure("prepare");
    OutboxCounts counts;
    while (s.Step() == SQLITE_ROW) {
      const std::string state = s.Text(0);
      (state == "pending" ? counts.pending
       : state == "dead"  ? counts.dead
                          : counts.delivered) = s.Int(1);
    }
    return counts;
  }

 private:
  Error Failure(std::string_view what) const {
    return Error{path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_)};
  }
  Status Exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      Error error{path_ + ": " + (message ? message : sqlite3_errmsg(db_))};
      sqlite3_free(message);
      return error;
    }
    return Status::Ok();
  }

  Status InsertOutbox(Statement& s, const OutboxEntry& o) {
    s.Bind(1, o.incident_id)
        .Bind(2, o.idempotency_key)
        .Bind(3, o.kind)
        .Bind(4, o.payload)
        .Bind(5, o.created_ms)
        .Bind(6, o.destination);
    if (s.Step() != SQLITE_DONE) return Failure("write outbox");
    s.Reset();
    return Status::Ok();
  }

  Status ApplyLocked(const Batch& batch) {
    if (!batch.incidents.empty()) {
      const std::string sql = std::string("INSERT OR REPLACE INTO incidents (") + kIncidentColumns +
                              ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
      Statement s(db_, sql.c_str());
      if (!s.ok()) return Failure("prepare incidents");
      // A batch holds an incident once per change; only its last state is written.
      std::unordered_set<int64_t> written;
      for (auto it = batch.incidents.rbegin(); it != batch.incidents.rend(); ++it) {
        const Incident& i = *it;
        if (!written.insert(i.id).second) continue;
        s.Bind(1, i.id).Bind(2, i.key).Bind(3, i.rule_id).Bind(4, rules::CategoryName(i.category));
        s.Bind(5, rules::SeverityName(i.severity)).Bind(6, i.owner).Bind(7, i.community);
        s.Bind(8, IncidentStateName(i.state))
            .Bind(9, i.opened_ms)
            .Bind(10, i.updated_ms)
            .Bind(11, i.last_hit_ms);
        s.Bind(12, i.hits)
            .Bind(13, i.acked_by)
            .Bind(14, i.acked_ms)
            .Bind(15, i.resolved_by)
            .Bind(16, i.resolved_ms);
        s.Bind(17, i.resolve_after_s)
            .Bind(18, static_cast<int64_t>(i.escalation_level))
            .Bind(19, i.next_escalation_ms);
        s.Bind(20, static_cast<int64_t>(i.repeats))
            .Bind(21, static_cast<int64_t>(i.reminders))
            .Bind(22, i.last_page_ms);
        s.Bind(23, JoinTags(i.tags)).Bind(24, static_cast<int64_t>(i.page_held ? 1 : 0));
        if (s.Step() != SQLITE_DONE) return Failure("write incident");
        s.Reset();
      }
    }
    if (!batch.evidence.empty()) {
      Statement s(db_,
                  "INSERT OR IGNORE INTO evidence (incident_id, post_id, url, excerpt, "
                  "content_hash, at_ms) "
                  "VALUES (?,?,?,?,?,?)");
      for (const auto& [id, e] : batch.evidence) {
        s.Bind(1, id)
            .Bind(2, e.post_id)
            .Bind(3, e.url)
            .Bind(4, e.excerpt)
            .Bind(5, e.content_hash)
            .Bind(6, e.at_ms);
        if (s.Step() != SQLITE_DONE) return Failure("write evidence");
        s.Reset();
      }
    }
    if (!batch.audit.empty()) {
      Statement s(
          db_, "INSERT INTO audit (incident_id, at_ms, actor, action, detail) VALUES (?,?,?,?,?)");
      for (const AuditEntry& a : batch.audit) {
        s.Bind(1, a.incident_id)
            .Bind(2, a.at_ms)
            .Bind(3, a.actor)
            .Bind(4, a.action)
            .Bind(5, a.detail);
        if (s.Step() != SQLITE_DONE) return Failure("write audit");
        s.Reset();
      }
    }
    if (!batch.outbox.empty()) {
      // The idempotency key is unique: a step decided twice (a replay) enqueues once.
      Statement s(
          db_,
          "INSERT OR IGNORE INTO outbox (incident_id, idempotency_key, kind, payload, created_ms, "
          "destination) VALUES (?,?,?,?,?,?)");
      for (const OutboxEntry& o : batch.outbox) {
        if (Status s2 = InsertOutbox(s, o); !s2.ok()) return s2;
      }
    }
    if (!batch.silences.empty()) {
      Statement s(db_,
                  "INSERT OR REPLACE INTO silences (id, matchers, starts_ms, ends_ms, author, "
                  "comment, created_ms) VALUES (?,?,?,?,?,?,?)");
      for (const Silence& silence : batch.silences) {
        s.Bind(1, silence.id)
            .Bind(2, MatchersJson(silence.matchers))
            .Bind(3, silence.starts_ms)
            .Bind(4, silence.ends_ms)
            .Bind(5, silence.author)
            .Bind(6, silence.comment)
            .Bind(7, silence.created_ms);
        if (s.Step() != SQLITE_DONE) return Failure("write silence");
        s.Reset();
      }
    }
    if (!batch.pending_added.empty()) {
      Statement s(
          db_,
          "INSERT OR IGNORE INTO pending_hits (key, post_id, at_ms, evidence) VALUES (?,?,?,?)");
      for (const PendingHit& p : batch.pending_added) {
        s.Bind(1, p.key).Bind(2, p.post_id).Bind(3, p.at_ms).Bind(4, p.evidence_json);
        if (s.Step() != SQLITE_DONE) return Failure("write pending hit");
        s.Reset();
      }
    }
    if (!batch.pending_removed.empty()) {
      Statement s(db_, "DELETE FROM pending_hits WHERE key = ? AND post_id = ?");
      for (const auto& [key, post_id] : batch.pending_removed) {
        s.Bind(1, key).Bind(2, post_id);
        if (s.Step() != SQLITE_DONE) return Failure("delete pending hit");
        s.Reset();
      }
    }
    if (!batch.spike_buckets.empty()) {
      Statement put(db_,
                    "INSERT OR REPLACE INTO spike_buckets (key, start_ms, count) VALUES (?,?,?)");
      Statement drop(db_, "DELETE FROM spike_buckets WHERE key = ? AND start_ms = ?");
      for (const auto& [where, count] : batch.spike_buckets) {
        Statement& s = count > 0 ? put : drop;
        s.Bind(1, where.first).Bind(2, where.second);
        if (count > 0) s.Bind(3, count);
        if (s.Step() != SQLITE_DONE) return Failure("write spike bucket");
        s.Reset();
      }
    }
    if (!batch.offsets.empty()) {
      Statement s(db_,
                  "INSERT INTO offsets (topic, partition, next_offset) VALUES (?,?,?) "
                  "ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset");
      for (const auto& [where, next] : batch.offsets) {
        s.Bind(1, where.first).Bind(2, static_cast<int64_t>(where.second)).Bind(3, next);
        if (s.Step() != SQLITE_DONE) return Failure("write offsets");
        s.Reset();
      }
    }
    return Status::Ok();
  }

  std::mutex mutex_;
  sqlite3* db_;  // GUARDED_BY(mutex_)
  const std::string path_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> OpenSqliteStore(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    Error error{path +
                ": cannot open the state store: " + (db ? sqlite3_errmsg(db) : "out of memory")};
    sqlite3_close(db);
    return error;
  }
  auto store = std::make_unique<SqliteStore>(db, path);
  sqlite3_busy_timeout(db, 5000);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
        "PRAGMA cache_size=-65536", "PRAGMA wal_autocheckpoint=16384"}) {
    char* message = nullptr;
    if (sqlite3_exec(db, pragma, nullptr, nullptr, &message) != SQLITE_OK) {
      Error error{path + ": " + pragma + ": " + (message ? message : "failed")};
      sqlite3_free(message);
      return error;
    }
  }
  // An older file is migrated in place; a newer one (from a later Vigil) is refused,
  // not misread.
  int version = 0, tables = 0;
  {
    Statement v(db, "PRAGMA user_version");
    if (v.ok() && v.Step() == SQLITE_ROW) version = static_cast<int>(v.Int(0));
    Statement t(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'");
    if (t.ok() && t.Step() == SQLITE_ROW) tables = static_cast<int>(t.Int(0));
  }
  if (version > kSchemaVersion || (version == 0 && tables > 0)) {
    return Error{path + ": state store schema version " + std::to_string(version) +
                 " is not one this vigild (" + std::to_string(kSchemaVersion) +
                 ") can use; restore a matching backup or move the file away"};
  }
  // One transaction: a crash mid-migration leaves the file at its old version.
  std::string script = "BEGIN IMMEDIATE;";
  if (version == 1) script += kMigrateV1ToV2;
  script += kSchema;
  script += "PRAGMA user_version = " + std::to_string(kSchemaVersion) + "; COMMIT;";
  char* message = nullptr;
  if (sqlite3_exec(db, script.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    Error error{path +
                (version == 1 ? ": cannot migrate the schema from version 1: "
                              : ": cannot create the schema: ") +
                (message ? message : "failed")};
    sqlite3_free(message);
    (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return error;
  }
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace vigil::alerts
