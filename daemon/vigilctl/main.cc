// vigilctl: the command-line tool for rule authors and operators.
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "daemon/lib/version.h"
#include "daemon/vigilctl/commands.h"

namespace {

using namespace vigil::ctl;

std::string FromEnvironment(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// Option values checked while parsing, so that a bad one is a usage error (exit 2).
const CLI::Validator kDuration(
    [](std::string& text) {
      return ParseDurationMs(text) ? "" : "expected a duration like 30m, 2h, 1d, 1h30m";
    },
    "DURATION");
const CLI::Validator kTime(
    [](std::string& text) {
      return ParseTimeMs(text) ? ""
                               : "expected an RFC 3339 time (2026-11-26T08:00:00+08:00) or a "
                                 "local time (\"2026-11-26 08:00\")";
    },
    "TIME");
const CLI::Validator kSince(
    [](std::string& text) {
      return ParseDurationMs(text) || ParseTimeMs(text)
                 ? ""
                 : "expected a duration back from now (2h, 30m, 1d) or a time "
                   "(2026-11-26T08:00:00Z, \"2026-11-26 08:00\")";
    },
    "DURATION|TIME");
const CLI::Validator kTimeout(
    [](std::string& text) {
      return ParseTimeoutMs(text) ? "" : "expected seconds (5, 0.5) or a duration (500ms, 1m)";
    },
    "SECONDS");
const CLI::Validator kMatcher(
    [](std::string& text) -> std::string {
      const size_t equals = text.find('=');
      if (equals == std::string::npos || equals + 1 == text.size())
        return "expected KEY=VALUE, e.g. rule=privacy.* or community=拾光吧";
      const std::string_view key = std::string_view(text).substr(0, equals);
      for (const std::string_view known : kSilenceMatcherKeys) {
        if (key == known) return "";
      }
      return "unknown key " + std::string(key) +
             "; expected rule, category, severity, owner, community or key";
    },
    "KEY=VALUE");

void AddApiOptions(CLI::App* command, ApiOptions& api) {
  command
      ->add_option("--server", api.server, "vigild's URL, http:// or https:// (env VIGIL_SERVER)")
      ->capture_default_str();
  // No capture_default_str: --help must not print the token from the environment.
  command->add_option("--token", api.token,
                      "API token, sent as Authorization: Bearer (env VIGIL_TOKEN, which keeps "
                      "it out of the process list)");
  command
      ->add_option("--ca-file", api.ca_file,
                   "PEM CA certificates to trust for https:// instead of the system's (env "
                   "VIGIL_CA_FILE)")
      ->capture_default_str();
  command->add_flag("--insecure", api.insecure,
                    "https:// without verifying the server's certificate (testing only)");
  command
      ->add_option("--cert-file", api.cert_file,
                   "PEM client certificate, for a server that asks for one (mutual TLS; env "
                   "VIGIL_CERT_FILE)")
      ->capture_default_str();
  command
      ->add_option("--key-file", api.key_file,
                   "PEM private key of --cert-file (env VIGIL_KEY_FILE)")
      ->capture_default_str();
  command
      ->add_option("--as", api.actor,
                   "Who is acting when the server has no tokens (sent as X-Vigil-Actor, "
                   "recorded as unauthenticated)")
      ->capture_default_str();
  command->add_option("--format", api.format, "text, or json: the API's answer as is")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command->add_option("--timeout", api.timeout, "Give up on a request after this long")
      ->check(kTimeout)
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vigilctl: write, test and run Vigil rules; work incidents and silences"};
  app.set_version_flag("--version", vigil::daemon::VersionLine("vigilctl"));
  app.require_subcommand(1);

  RulesOptions rules_options;
  CLI::App* rules = app.add_subcommand("rules", "Check, test and list rule files");
  rules->require_subcommand(1);
  auto add_paths = [&](CLI::App* cmd) {
    cmd->add_option("paths", rules_options.paths, "Rule files or folders")->required();
    cmd->add_option("--cache-dir", rules_options.cache_dir, "Cache compiled databases here");
  };
  CLI::App* lint = rules->add_subcommand("lint", "Report every problem in the rules, one per line");
  add_paths(lint);
  CLI::App* test = rules->add_subcommand("test", "Run every rule's hit and miss examples");
  add_paths(test);
  CLI::App* list = rules->add_subcommand("list", "List the rules");
  add_paths(list);
  list->add_option("--format", rules_options.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));

  MatchOptions match_options;
  CLI::App* match =
      app.add_subcommand("match", "Match posts (JSON Lines) and print hits (JSON Lines)");
  match
      ->add_option("--rules", match_options.rule_paths,
                   "Rule files or folders (repeat, or separate with commas)")
      ->required()
      ->allow_extra_args(false)
      ->delimiter(',');
  match->add_option("input", match_options.input, "Posts file, or - for standard input");
  match->add_flag("--explain", match_options.explain,
                  "Show which parts matched where, and why candidates were rejected");
  match->add_option("--cache-dir", match_options.cache_dir, "Cache compiled databases here");

  BenchOptions bench_options;
  CLI::App* bench =
      app.add_subcommand("bench", "Measure the match stage on a corpus (one JSON object)");
  bench
      ->add_option("--rules", bench_options.rule_paths,
                   "Rule files or folders (repeat, or separate with commas)")
      ->required()
      ->allow_extra_args(false)
      ->delimiter(',');
  bench->add_option("--corpus", bench_options.corpus, "Posts as JSON Lines")->required();
  bench->add_option("--min-seconds", bench_options.min_seconds, "Minimum time per measured loop");
  bench->add_option("--max-posts", bench_options.max_posts, "Use at most this many posts");

  ProduceOptions produce_options;
  CLI::App* produce = app.add_subcommand(
      "produce", "Send posts (JSON Lines) to a Kafka topic; bad lines are reported and skipped");
  produce
      ->add_option("--brokers,-b", produce_options.brokers,
                   "Kafka bootstrap servers (host:port,...)")
      ->required();
  produce->add_option("--topic,-t", produce_options.topic, "Topic")->capture_default_str();
  produce
      ->add_option("--timeout-ms", produce_options.timeout_ms,
                   "Give up on a post the broker has not acknowledged after this long")
      ->capture_default_str();
  produce->add_option("input", produce_options.input, "Posts file, or - for standard input");

  ApiOptions api_defaults;
  api_defaults.server = FromEnvironment("VIGIL_SERVER", "http://127.0.0.1:8080");
  api_defaults.actor = FromEnvironment("USER", FromEnvironment("LOGNAME", ""));
  api_defaults.token = FromEnvironment("VIGIL_TOKEN", "");
  api_defaults.ca_file = FromEnvironment("VIGIL_CA_FILE", "");
  api_defaults.cert_file = FromEnvironment("VIGIL_CERT_FILE", "");
  api_defaults.key_file = FromEnvironment("VIGIL_KEY_FILE", "");

  IncidentsOptions incidents_options;
  incidents_options.api = api_defaults;
  CLI::App* incidents =
      app.add_subcommand("incidents", "List, show, acknowledge and resolve incidents");
  incidents->require_subcommand(1);
  CLI::App* incidents_list =
      incidents->add_subcommand("list", "List incidents, the most recently updated first");
  incidents_list->add_option("--state", incidents_options.state, "open, acknowledged or resolved")
      ->check(CLI::IsMember({"open", "acknowledged", "resolved"}));
  incidents_list->add_option("--category", incidents_options.category,
                             "sentiment, complaint, privacy_leak or compliance");
  incidents_list
      ->add_option("--severity", incidents_options.severity, "info, low, medium, high or critical")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}));
  incidents_list->add_option("--owner", incidents_options.owner, "The owning role");
  incidents_list
      ->add_option("--since", incidents_options.since,
                   "Opened at most this long ago (2h, 30m, 1d) or after this time")
      ->check(kSince);
  incidents_list->add_option("--limit", incidents_options.limit, "At most this many")
      ->check(CLI::Range(1, 1000));
  CLI::App* incidents_show =
      incidents->add_subcommand("show", "Show an incident with its timeline and evidence");
  incidents_show->add_option("id", incidents_options.ids, "Incident id")
      ->required()
      ->expected(1)
      ->check(CLI::PositiveNumber);
  CLI::App* incidents_ack = incidents->add_subcommand("ack", "Acknowledge incidents");
  incidents_ack->add_option("ids", incidents_options.ids, "Incident ids")
      ->required()
      ->check(CLI::PositiveNumber);
  CLI::App* incidents_resolve = incidents->add_subcommand("resolve", "Resolve incidents");
  incidents_resolve->add_option("ids", incidents_options.ids, "Incident ids")
      ->required()
      ->check(CLI::PositiveNumber);
  incidents_resolve->add_option("--comment", incidents_options.comment,
                                "Why, for the timeline (e.g. the post was taken down)");
  for (CLI::App* command : {incidents_list, incidents_show, incidents_ack, incidents_resolve}) {
    AddApiOptions(command, incidents_options.api);
  }

  SilencesOptions silences_options;
  silences_options.api = api_defaults;
  CLI::App* silences = app.add_subcommand(
      "silences", "List, add and expire silences (incidents they match page no one)");
  silences->require_subcommand(1);
  CLI::App* silences_list = silences->add_subcommand("list", "List silences");
  silences_list
      ->add_option("--state", silences_options.state,
                   "active, pending, expired or all (default: active and pending)")
      ->check(CLI::IsMember({"active", "pending", "expired", "all"}));
  CLI::App* silences_add = silences->add_subcommand("add", "Add a silence");
  silences_add
      ->add_option("--match", silences_options.matchers,
                   "KEY=VALUE, repeatable; keys rule, category, severity, owner, community, "
                   "key; * in a value matches anything")
      ->required()
      ->allow_extra_args(false)
      ->check(kMatcher);
  // Exactly one of --for and --until, no default: a silence that outlives the problem
  // hides the next one.
  auto* length = silences_add->add_option_group("length", "How long it lasts (one of)");
  length->add_option("--for", silences_options.duration, "How long (2h, 1d)")->check(kDuration);
  length
      ->add_option("--until", silences_options.until,
                   "When it ends: RFC 3339 or local \"2026-11-26 08:00\"")
      ->check(kTime);
  length->require_option(1);
  silences_add->add_option("--starts", silences_options.starts, "When it starts (default: now)")
      ->check(kTime);
  silences_add->add_option("--comment", silences_options.comment, "Why (required)")->required();
  CLI::App* silences_expire = silences->add_subcommand("expire", "Expire silences now");
  silences_expire->add_option("ids", silences_options.ids, "Silence ids")
      ->required()
      ->check(CLI::PositiveNumber);
  for (CLI::App* command : {silences_list, silences_add, silences_expire}) {
    AddApiOptions(command, silences_options.api);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*lint) return RulesLint(rules_options);
  if (*test) return RulesTest(rules_options);
  if (*list) return RulesList(rules_options);
  if (*match) return Match(match_options);
  if (*bench) return Bench(bench_options);
  if (*produce) return Produce(produce_options);
  if (*incidents_list) return IncidentsList(incidents_options);
  if (*incidents_show) return IncidentsShow(incidents_options);
  if (*incidents_ack) return IncidentsAck(incidents_options);
  if (*incidents_resolve) return IncidentsResolve(incidents_options);
  if (*silences_list) return SilencesList(silences_options);
  if (*silences_add) return SilencesAdd(silences_options);
  if (*silences_expire) return SilencesExpire(silences_options);
  return 2;
}
