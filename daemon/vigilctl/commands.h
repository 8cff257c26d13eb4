// vigilctl's subcommands. Each returns the process exit code: 0 success, 1 a user
// error (bad rules, bad input lines), 2 a usage error.
#pragma once

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "connectors/post.h"
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

}  // namespace vigil::ctl
