// vigild: the daemon. Reads its configuration, loads the rules, connects to Kafka (or
// starts the embedded broker), runs the pipeline and the HTTP API until SIGTERM/SIGINT;
// SIGHUP reloads the rules and the TLS certificate.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "daemon/lib/config.h"
#include "daemon/lib/daemon.h"
#include "daemon/lib/version.h"

int main(int argc, char** argv) {
  CLI::App app{"vigild: matches community posts from Kafka against risk rules and hands hits on"};
  std::string config_file;
  std::vector<std::string> sets;
  bool check_only = false;
  bool config_reference = false;
  app.add_option("--config,-c", config_file, "YAML configuration file");
  app.add_option("--set", sets, "override a key: --set kafka.brokers=embedded (repeatable)")
      ->take_all();
  app.add_flag("--check", check_only, "validate the configuration and the rules, then exit");
  app.add_flag("--config-reference", config_reference,
               "print every configuration key (Markdown table, as in docs/configuration.md), "
               "then exit");
  app.set_version_flag("--version", vigil::daemon::VersionLine("vigild"));
  app.footer(
      "Configuration keys: docs/configuration.md. Signals: SIGTERM/SIGINT drain and exit, SIGHUP "
      "reloads rules and the TLS certificate.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (config_reference) {
    std::fputs(vigil::daemon::ConfigReferenceMarkdown().c_str(), stdout);
    return 0;
  }

  vigil::daemon::ConfigSource source;
  if (!config_file.empty()) source.file = config_file;
  source.sets = sets;
  auto config = vigil::daemon::LoadConfig(source);
  if (!config.ok()) {
    std::fprintf(stderr, "vigild: invalid configuration:\n%s\n", config.error().ToString().c_str());
    return 1;
  }
  return vigil::daemon::RunDaemon(*config, {.check_only = check_only});
}
