// vigilctl's subcommands. Each returns the process exit code: 0 success, 1 a user
// error (bad rules, bad input lines, an API call that failed), 2 a usage error.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "connectors/post.h"
#include "daemon/vigilctl/api_client.h"
#include "rules/rule_engine.h"

namespace vigil::ctl {

struct RulesOptions {
  std::vector<std::string> paths;
  std::string format = "text";  // list: text | json
  std::string cache_dir;
};

int RulesLint(const RulesOptions& options);
int RulesTest(const RulesOptions& options);
int RulesList(const RulesOptions& options);

struct MatchOptions {
  std::vector<std::string> rule_paths;
  std::string input = "-";
  bool explain = false;
  std::string cache_dir;
};
int Match(const MatchOptions& options);

struct BenchOptions {
  std::vector<std::string> rule_paths;
  std::string corpus;
  double min_seconds = 2.0;  // each measured loop runs at least this long
  size_t max_posts = 0;      // 0: the whole corpus
};
int Bench(const BenchOptions& options);

struct ProduceOptions {
  std::string brokers;
  std::string topic = "vigil.posts";
  std::string input = "-";
  int timeout_ms = 30000;  // per message, until the broker acknowledged it
};
int Produce(const ProduceOptions& options);

// A JSON Lines input: a file, or standard input for "-". Reports an unreadable file on
// stderr and returns false.
struct LineInput {
  std::ifstream file;
  std::string name;  // for messages: the path, or "<stdin>"
  std::istream* stream = nullptr;
  std::string line;  // the current line (the post's JSON after NextPost)
  size_t line_number = 0;
  size_t bad = 0;  // lines that were not valid posts
  bool Open(const std::string& path);
  // Reads up to the next valid post, skipping blank lines and reporting each bad line
  // on stderr as "name:line: reason: detail". False at the end of the input.
  bool NextPost(connectors::PostDecoder& decoder, connectors::PostView& post);
};

// Loads a rule set for a command, printing every diagnostic to stderr. Null on errors.
std::shared_ptr<const rules::RuleSet> LoadForCommand(const std::vector<std::string>& paths,
                                                     const std::string& cache_dir,
                                                     bool check_examples);

// Commands that call vigild's HTTP API: incidents and silences. A failed call prints one
// line on stderr naming what failed ("vigilctl: incident 42: 409 incident 42 is not open",
// "vigilctl: cannot connect to 127.0.0.1:8080: Connection refused") and exits 1; a token
// refused (401, 403) exits 2, like a usage error.
struct ApiOptions {
  std::string server;           // "http[s]://host:port"; main() defaults it from $VIGIL_SERVER
  std::string ca_file;          // CAs trusted for https://; main() defaults it from $VIGIL_CA_FILE
  bool insecure = false;        // https:// without verifying the server (warned about)
  std::string cert_file;        // client certificate (mutual TLS); main(): $VIGIL_CERT_FILE
  std::string key_file;         // its key; main(): $VIGIL_KEY_FILE
  std::string actor;            // sent as X-Vigil-Actor; main() defaults it to $USER
  std::string token;            // API token (Authorization: Bearer); main(): $VIGIL_TOKEN
  std::string format = "text";  // text | json (the API's JSON as is, pretty)
  std::string timeout = "5s";   // per request: "5", "5s", "500ms"
};

struct IncidentsOptions {
  ApiOptions api;
  // list filters; `since` is a duration back from now ("2h") or a time (ParseTimeMs)
  std::string state, category, severity, owner, since;
  int limit = 0;             // 0: the server's default
  std::vector<int64_t> ids;  // show: one; ack, resolve: one or more
  std::string comment;       // resolve
};
int IncidentsList(const IncidentsOptions& options);
int IncidentsShow(const IncidentsOptions& options);
// ack and resolve try every id and exit 1 if any failed (they stop early only when the
// server does not answer at all).
int IncidentsAck(const IncidentsOptions& options);
int IncidentsResolve(const IncidentsOptions& options);

struct SilencesOptions {
  ApiOptions api;
  std::string state;                  // list: active|pending|expired|all; "": active and pending
  std::vector<std::string> matchers;  // add: KEY=VALUE, at least one
  std::string duration, until, starts, comment;  // add: --for, --until, --starts, --comment
  std::vector<int64_t> ids;                      // expire
};
int SilencesList(const SilencesOptions& options);
int SilencesAdd(const SilencesOptions& options);
int SilencesExpire(const SilencesOptions& options);

// The keys a silence matcher may name.
inline constexpr std::string_view kSilenceMatcherKeys[] = {"rule",  "category",  "severity",
                                                           "owner", "community", "key"};

// Helpers shared by the API commands (defined in incidents_commands.cc).

// "2h", "30m", "1d", "1w", "90s", "500ms", "1h30m" in milliseconds; nullopt otherwise.
std::optional<int64_t> ParseDurationMs(std::string_view text);
// RFC 3339 ("2026-11-26T08:00:00Z", "2026-11-26T08:00:00.5+08:00") or local time
// ("2026-11-26 08:00", "2026-11-26 08:00:30", "2026-11-26") in milliseconds since 1970.
std::optional<int64_t> ParseTimeMs(std::string_view text);
// A request timeout: seconds ("5", "0.5") or a duration ("500ms", "1m"), at most a day.
std::optional<int64_t> ParseTimeoutMs(std::string_view text);
int64_t NowMs();
// Local time: "2026-11-25 19:40", or "2026-11-25 19:40:05" with seconds.
std::string FormatLocalTime(int64_t ms, bool seconds = false);
// How far `ms` is from `now_ms`: "12m ago", "3h ago", "in 2h", "just now".
std::string FormatAge(int64_t ms, int64_t now_ms);
// Both: "2026-11-25 19:40 (12m ago)"; "-" for 0 (never).
std::string FormatWhen(int64_t ms, int64_t now_ms);
// Text from the API made safe for a terminal: control characters (but newlines when
// `keep_newlines`), bidi overrides and invalid UTF-8 become U+FFFD. Text is printed as the
// server sent it otherwise (excerpts come masked).
std::string Printable(std::string_view text, bool keep_newlines = false);
// Terminal columns of printable UTF-8 text: wide (CJK) characters take two, combining none.
size_t DisplayWidth(std::string_view text);

// Rows aligned by display width, columns separated by two spaces. Cells are Printable()d.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers);
  void RightAlign(size_t column) { right_.at(column) = true; }
  void AddRow(std::vector<std::string> cells);  // REQUIRES: as many cells as headers
  void Print(std::FILE* out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // the headers first
  std::vector<bool> right_;
};

// The client for a command, or nullopt after printing why (a bad --server or --timeout).
std::optional<ApiClient> ClientFor(const ApiOptions& options);
// The JSON of a 2xx answer. Otherwise prints "vigilctl: WHAT: ..." (`what` names the
// object, e.g. "incident 42") and returns nullopt.
std::optional<nlohmann::ordered_json> ExpectJson(const Result<ApiResponse>& answer,
                                                 std::string_view what);
// The API's JSON, indented, on stdout.
void PrintJson(const nlohmann::ordered_json& json);
// A field of an API object as text: "" when absent or null, numbers as digits.
std::string JsonText(const nlohmann::ordered_json& object, const char* key);
// A field of an API object as an integer: 0 unless it is a number.
int64_t JsonInt(const nlohmann::ordered_json& object, const char* key);

}  // namespace vigil::ctl
