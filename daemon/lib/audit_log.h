// The audit log (docs/security.md): one JSON line per operator action on the API
// (acknowledge, resolve, silences, rule reloads, refused attempts at them) and per rule
// reload by SIGHUP. Ingest is data, not an operator action, and reads change nothing:
// neither is audited.
//
// Thread safety: Record() and Tail() may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "daemon/lib/http_server.h"

namespace vigil::daemon {

struct AuditRecord {
  std::string actor;   // a token's name, "unauthenticated (...)", "signal:SIGHUP"
  std::string role;    // the caller's role, "open", "signed-link", "" when unknown
  std::string remote;  // peer address; empty for a signal
  std::string action;  // incident.ack, incident.resolve, silence.add, silence.expire, rules.reload
  std::string target;  // "incident/12", "silence/3", the rule set hash
  int status = 0;      // the HTTP status answered (a signal's reload: 200 or 422)
  std::string error;   // on failure
};

// {"ts": RFC 3339 UTC with milliseconds, "actor", "role", "remote", "action", "target",
// "status", "error"?} without a trailing newline.
std::string AuditLine(const AuditRecord& record, std::chrono::system_clock::time_point at);

// The audit action of an API request and what it acts on, or nullopt for requests that
// are not audited (reads, rule tests, ingest).
struct AuditedAction {
  std::string action, target;
};
std::optional<AuditedAction> AuditedActionOf(const HttpRequest& request);

// A record of `request` answered by `response` (target and error read from it).
AuditRecord AuditRecordOf(const HttpRequest& request, const AuditedAction& action,
                          const HttpResponse& response);

class AuditLog {
 public:
  // Opens (creating with mode 0640) for appending. An error names the path.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line in one write(); a failure is logged, never thrown.
  void Record(const AuditRecord& record);
  // The last `limit` lines, oldest first.
  Result<std::vector<std::string>> Tail(size_t limit) const;
  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
  std::mutex write_mutex_;
};

}  // namespace vigil::daemon
