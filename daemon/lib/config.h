// The configuration of vigild: a YAML file plus `--set KEY=VALUE` overrides, validated at
// start with every problem reported at once, then frozen into an immutable Config.
//
// Every key is one entry of one schema table (config_schema.cc): its dotted name, type,
// description, how to apply a value and how to show the current one. Loading, `--set`,
// the "did you mean" suggestions and ConfigReferenceMarkdown() all read that table, so a
// new key is one new entry there plus its field here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vigil::daemon {

struct KafkaTopics {
  std::string posts = "vigil.posts";
  std::string hits = "vigil.hits";
  std::string dlq = "vigil.dlq";
  friend bool operator==(const KafkaTopics&, const KafkaTopics&) = default;
};

struct KafkaConfig {
  std::string brokers = "embedded";  // a bootstrap list "host:port,..." or "embedded"
  KafkaTopics topics;
  std::string group_id = "vigil";
  int embedded_partitions = 3;  // partitions of each topic on the embedded broker
  // Passed through to librdkafka (security.protocol, sasl.*, ssl.*, ...); librdkafka's names.
  // Validated against librdkafka at load time; the properties vigild manages itself
  // (bootstrap.servers, group.id, offset storage) are refused.
  std::map<std::string, std::string> properties;

  bool embedded() const { return brokers == "embedded"; }
  friend bool operator==(const KafkaConfig&, const KafkaConfig&) = default;
};

struct RulesConfig {
  std::vector<std::string> paths = {"rules/packs"};  // rule files or folders
  std::string cache_dir;  // compiled-database cache; empty: <state.dir>/hs-cache
  friend bool operator==(const RulesConfig&, const RulesConfig&) = default;
};

// One API token (http.tokens or the tokens file): the token itself, or the SHA-256 of it in
// hex so the file need not hold the secret. Checked together at start (auth.h).
struct TokenEntry {
  std::string name, role, token, sha256;
  std::string where;  // "file:line"
  friend bool operator==(const TokenEntry&, const TokenEntry&) = default;
};

// HTTPS for the listener: on when cert_file and key_file are set (PEM files).
struct HttpTlsConfig {
  std::string cert_file;       // the certificate, then any intermediates
  std::string key_file;        // its private key, unencrypted
  std::string client_ca_file;  // when set, clients must present a certificate from these CAs
  friend bool operator==(const HttpTlsConfig&, const HttpTlsConfig&) = default;
};

struct HttpConfig {
  // From http.listen "host:port" ("[v6]:port" for IPv6). Port 0 binds a free port.
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  size_t max_body_bytes = 16 << 20;
  int max_connections = 256;
  std::chrono::milliseconds request_timeout{30000};
  std::vector<TokenEntry> tokens;
  std::string tokens_file;
  // Paths served without a token; only /healthz, /readyz and /metrics may be listed.
  std::vector<std::string> open_endpoints = {"/healthz", "/readyz", "/metrics"};
  bool insecure = false;  // no tokens on a listener that is not loopback: allowed, loudly
  HttpTlsConfig tls;

  std::string listen() const;  // "host:port", brackets around an IPv6 host
  std::string scheme() const { return tls.cert_file.empty() ? "http" : "https"; }
  friend bool operator==(const HttpConfig&, const HttpConfig&) = default;
};

struct PipelineConfig {
  int workers = 0;               // 0: one per core
  size_t queue_capacity = 4096;  // posts in flight between stages
  size_t max_post_bytes = 1 << 20;
  int max_json_depth = 16;

  int worker_count() const;  // workers, or the number of cores when 0
  friend bool operator==(const PipelineConfig&, const PipelineConfig&) = default;
};

struct StateConfig {
  std::string dir = "./vigil-state";
  friend bool operator==(const StateConfig&, const StateConfig&) = default;
};

struct LogConfig {
  std::string level = "info";   // trace | debug | info | warn | error
  std::string format = "text";  // text | json
  // A line per hit with its masked excerpt (on with a demo feed): post text, masked, in
  // the log. Off by default: logs carry no post content.
  bool hit_excerpts = false;
  friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

struct DemoConfig {
  std::string feed;  // a JSON Lines file replayed into the posts topic when non-empty
  double rate_per_s = 20;
  bool loop = true;
  friend bool operator==(const DemoConfig&, const DemoConfig&) = default;
};

// Paging: who is paged, how (a separate YAML file, docs/paging.md), and the links in pages.
struct AlertsConfig {
  std::string paging;       // the paging file; empty: incidents are recorded, nobody is paged
  std::string public_url;   // how people reach this API from a page; empty: http[s]://<http.listen>
  std::string link_secret;  // signs acknowledge links; empty: <state.dir>/link.key (generated)
  friend bool operator==(const AlertsConfig&, const AlertsConfig&) = default;
};

// Platform adapters that receive webhooks on the HTTP server.
struct DiscourseConfig {
  std::string secret;     // the webhook's secret; empty: signatures are not checked
  std::string community;  // when set, the community of every post (else its category)
  friend bool operator==(const DiscourseConfig&, const DiscourseConfig&) = default;
};

struct ConnectorsConfig {
  DiscourseConfig discourse;
  friend bool operator==(const ConnectorsConfig&, const ConnectorsConfig&) = default;
};

struct AuditConfig {
  std::string file;  // empty: <state.dir>/audit.log
  friend bool operator==(const AuditConfig&, const AuditConfig&) = default;
};

// Relative paths are relative to vigild's working directory.
struct Config {
  KafkaConfig kafka;
  RulesConfig rules;
  HttpConfig http;
  PipelineConfig pipeline;
  StateConfig state;
  LogConfig log;
  DemoConfig demo;
  ConnectorsConfig connectors;
  AlertsConfig alerts;
  AuditConfig audit;

  std::string rules_cache_dir() const;  // rules.cache_dir, or <state.dir>/hs-cache
  std::string audit_file() const;       // audit.file, or <state.dir>/audit.log
  friend bool operator==(const Config&, const Config&) = default;
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
// The process environment (std::getenv).
std::optional<std::string> LookupProcessEnv(std::string_view name);

struct ConfigSource {
  std::optional<std::string> file;  // a YAML file; none: defaults and overrides only
  std::vector<std::string> sets;    // "KEY=VALUE", applied in order after the file
};

// Reads the file (if any), applies it, then each --set, and validates the result.
// A value, in the file or a --set, may hold `${env:NAME}`, replaced by that environment
// variable (an error when it is unset; there is no escape for a literal "${env:"). On failure the
// Error's message holds every problem, one per line, file problems in file order and then --set
// problems in --set order, each naming where:
//   vigil.yaml:12:5: pipeline.workers: expected an integer from 0 to 1024, got "many"
//   --set pipeline.worker: unknown key; did you mean pipeline.workers?
// Never throws on bad input.
Result<Config> LoadConfig(const ConfigSource& source, const EnvLookup& getenv = LookupProcessEnv);

// LoadConfig with the file's text already read; `file_name` is what messages call it.
Result<Config> ParseConfig(std::string_view file_name, std::string_view yaml_text,
                           const std::vector<std::string>& sets,
                           const EnvLookup& getenv = LookupProcessEnv);

// Every key and its value, one "key: value" line each in schema order, secrets masked: for the
// start-up log and for comparing configs in tests.
std::string DescribeConfig(const Config& config);

// The schema as a Markdown table (key, type, default, description) for the docs.
std::string ConfigReferenceMarkdown();

// ---- The schema table. Loading code and tools read it; ordinary callers need none of it.

// One value on its way to a key, after ${env:NAME} substitution.
struct ConfigValue {
  enum class Shape { kNull, kScalar, kList, kMap, kRecords };
  Shape shape = Shape::kScalar;
  std::vector<std::string> items;  // kScalar: one item; kList: its items (all scalars)
  std::string got;                 // how messages show it: "\"many\"", "a list", "nothing"
  // kRecords: a list of mappings of scalars (http.tokens), each with where it is.
  std::vector<std::map<std::string, std::string>> records;
  std::vector<Location> record_at;

  const std::string& text() const { return items.front(); }  // REQUIRES: shape == kScalar
};

struct ConfigKey {
  std::string key;             // dotted; with takes_subkeys, the prefix of "<key>.<name>"
  std::string type;            // as the reference shows it: "integer", "size", "duration", ...
  std::string description;     // one sentence or two, for the reference and vigil.yaml
  bool takes_subkeys = false;  // kafka.properties.<name>: any name, each a string
  // Sets the field from `value` (for takes_subkeys, the entry `subkey`). Returns the
  // problem ("expected ..., got ...") or an empty string; leaves `config` alone on a problem.
  std::function<std::string(const ConfigValue& value, std::string_view subkey, Config& config)>
      apply;
  // The current value as it would be written in vigil.yaml ("16MiB", "30s", "a,b").
  std::function<std::string(const Config& config)> show;
  // With takes_subkeys: the problem with a subkey's name, or an empty string. Checked
  // before `apply`, and reported at the name rather than at the value.
  std::function<std::string(std::string_view subkey)> check_subkey;
};

// Every key, in the order the reference and DescribeConfig list them.
const std::vector<ConfigKey>& ConfigSchema();

// The problem with a key the schema does not know (a full dotted key, or a section path
// such as "pipelin"): "unknown key; did you mean pipeline?" when a known name is close,
// else the names that are known at that level.
std::string UnknownKeyProblem(std::string_view key);

}  // namespace vigil::daemon
