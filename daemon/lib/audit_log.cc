#include "daemon/lib/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace vigil::daemon {

using nlohmann::json;

std::string AuditLine(const AuditRecord& record, std::chrono::system_clock::time_point at) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  // In the documented order (ordered_json), so that lines read and grep alike.
  nlohmann::ordered_json line = {
      {"ts", fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", utc, static_cast<int>(ms % 1000))},
      {"actor", record.actor},
      {"role", record.role},
      {"remote", record.remote},
      {"action", record.action},
      {"target", record.target},
      {"status", record.status}};
  if (!record.error.empty()) line["error"] = record.error;
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<AuditedAction> AuditedActionOf(const HttpRequest& request) {
  const std::string_view path = request.path;
  if (request.method == "GET" || request.method == "HEAD") return std::nullopt;
  // Data and dry runs, not operator actions.
  if (path == "/api/v1/posts" || path.starts_with("/api/v1/ingest/") ||
      path == "/api/v1/rules/test") {
    return std::nullopt;
  }
  if (path == "/api/v1/rules/reload") return AuditedAction{"rules.reload", ""};
  if (path == "/api/v1/silences" && request.method == "POST")
    return AuditedAction{"silence.add", ""};
  constexpr std::string_view kSilences = "/api/v1/silences/", kIncidents = "/api/v1/incidents/";
  if (path.starts_with(kSilences) && request.method == "DELETE") {
    return AuditedAction{"silence.expire", "silence/" + std::string(path.substr(kSilences.size()))};
  }
  if (path.starts_with(kIncidents)) {
    std::string_view rest = path.substr(kIncidents.size());
    const size_t slash = rest.find('/');
    const std::string id(rest.substr(0, slash));
    const std::string_view verb =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (verb == "ack") return AuditedAction{"incident.ack", "incident/" + id};
    if (verb == "resolve") return AuditedAction{"incident.resolve", "incident/" + id};
  }
  // Any other change someone may add later is recorded under its method and path.
  std::string method = request.method;
  for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return AuditedAction{"http." + method, request.path};
}

AuditRecord AuditRecordOf(const HttpRequest& request, const AuditedAction& action,
                          const HttpResponse& response) {
  AuditRecord record;
  record.actor = request.caller;
  record.role = request.caller_role;
  record.remote = request.remote;
  record.action = action.action;
  record.target = action.target;
  record.status = response.status;
  if (request.caller_role == "signed") {
    // An acknowledge link from a page: it acts as the person it was sent to.
    record.actor = request.param("by") + " (page link)";
  }
  const json body = response.content_type == "application/json"
                        ? json::parse(response.body, nullptr, false)
                        : json();
  if (body.is_object()) {
    if (record.target.empty() && body.contains("id") && body["id"].is_number_integer())
      record.target = fmt::format("silence/{}", body["id"].get<int64_t>());
    if (record.target.empty() && body.contains("rule_set") && body["rule_set"].is_string())
      record.target = body["rule_set"].get<std::string>();
    if (response.status >= 400 && body.contains("error") && body["error"].is_string())
      record.error = body["error"].get<std::string>();
  }
  if (response.status >= 400 && record.error.empty())
    record.error = fmt::format("HTTP {}", response.status);
  return record;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    return Error{fmt::format("audit.file {}: cannot open: {}", path, std::strerror(errno))};
  // A file made earlier with a wider mode: nobody but the daemon's user and group reads it.
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 0027) != 0 && ::fchmod(fd, st.st_mode & 07750) != 0) {
    spdlog::warn("audit.file {}: cannot restrict its mode to 0640: {}", path, std::strerror(errno));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(path, fd));
}

AuditLog::~AuditLog() { ::close(fd_); }

void AuditLog::Record(const AuditRecord& record) {
  const std::string line = AuditLine(record, std::chrono::system_clock::now()) + "\n";
  std::lock_guard lock(write_mutex_);
  // O_APPEND and one write: a line is never interleaved with another process's.
  const ssize_t written = ::write(fd_, line.data(), line.size());
  if (written != static_cast<ssize_t>(line.size())) {
    spdlog::error("audit.file {}: cannot append ({}); lost: {}", path_,
                  written < 0 ? std::strerror(errno) : "short write", line);
  } else if (::fdatasync(fd_) != 0) {
    // Operator actions are rare; each is on disk before the caller is answered.
    spdlog::error("audit.file {}: cannot sync: {}", path_, std::strerror(errno));
  }
}

Result<std::vector<std::string>> AuditLog::Tail(size_t limit) const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return Error{fmt::format("audit.file {}: cannot read it", path_)};
  // The last 4 MiB hold far more lines than anyone asks for at once.
  constexpr std::streamoff kWindow = 4 << 20;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > kWindow ? size - kWindow : 0;
  in.seekg(start);
  std::string line;
  if (start > 0) std::getline(in, line);  // a partial first line
  std::deque<std::string> lines;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    lines.push_back(std::move(line));
    if (lines.size() > limit) lines.pop_front();
  }
  return std::vector<std::string>(lines.begin(), lines.end());
}

}  // namespace vigil::daemon
