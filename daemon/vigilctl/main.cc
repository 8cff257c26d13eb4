// vigilctl: the command-line tool for rule authors and operators.
#include <hs/hs.h>
#include <CLI/CLI.hpp>

#include "connectors/kafka_config.h"
#include "daemon/vigilctl/commands.h"

int main(int argc, char** argv) {
  using namespace vigil::ctl;
  CLI::App app{"vigilctl: write, test and run Vigil rules"};
  app.set_version_flag("--version", std::string("vigilctl ") + VIGIL_VERSION + " (Hyperscan " +
                                        hs_version() + ", librdkafka " +
                                        vigil::connectors::KafkaVersion() + ")");
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
  return 2;
}
