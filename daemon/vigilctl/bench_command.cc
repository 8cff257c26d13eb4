// vigilctl bench: throughput of the full match stage on one thread, beside a bare
// hs_scan of the same databases and an RE2::Set of the same patterns.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include <fmt/format.h>
#include <re2/set.h>
#include <nlohmann/json.hpp>

#include "connectors/post.h"
#include "daemon/vigilctl/commands.h"

namespace vigil::ctl {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `pass` (one pass over the corpus) until `min_seconds` have elapsed; returns
// passes per second.
double Measure(double min_seconds, const std::function<void()>& pass) {
  pass();  // warm caches and scratch
  int passes = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    pass();
    ++passes;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < min_seconds);
  return passes / elapsed;
}

int NoopHandler(unsigned, unsigned long long, unsigned long long, unsigned, void*) { return 0; }

}  // namespace

int Bench(const BenchOptions& options) {
  const auto compile_start = Clock::now();
  auto set = LoadForCommand(options.rule_paths, "", /*check_examples=*/false);
  if (!set) return 1;
  const double compile_s = std::chrono::duration<double>(Clock::now() - compile_start).count();
  // The daemon's restart path: the same rules again, with the compiled databases already
  // in the on-disk cache (filled by a first load into a fresh cache folder).
  double cache_load_s = 0;
  {
    char cache_template[] = "/tmp/vigil-bench-cache-XXXXXX";
    if (const char* cache_dir = mkdtemp(cache_template)) {
      if (LoadForCommand(options.rule_paths, cache_dir, false)) {
        const auto start = Clock::now();
        if (LoadForCommand(options.rule_paths, cache_dir, false)) {
          cache_load_s = std::chrono::duration<double>(Clock::now() - start).count();
        }
      }
      std::error_code ec;
      std::filesystem::remove_all(cache_dir, ec);
    }
  }

  std::ifstream in(options.corpus, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "{}: cannot open the corpus\n", options.corpus);
    return 1;
  }
  std::vector<std::string> lines;
  size_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    bytes += line.size();
    lines.push_back(std::move(line));
    if (options.max_posts && lines.size() == options.max_posts) break;
  }
  if (lines.empty()) {
    fmt::print(stderr, "{}: no posts\n", options.corpus);
    return 1;
  }

  // The field bytes the baselines scan: the same fields the matcher sees.
  connectors::PostDecoder decoder;
  connectors::PostView post;
  connectors::PostError error;
  std::vector<rules::FieldText> fields;
  std::string tags;
  std::vector<std::string> field_texts;
  std::vector<size_t> post_field_end;
  size_t field_bytes = 0;
  for (const std::string& line : lines) {
    if (decoder.Decode(line, post, error)) {
      post.MatchFields(fields, tags);
      for (const rules::FieldText& f : fields) {
        if (!(set->fields_used() & rules::FieldBit(f.field))) continue;  // the matcher skips it too
        field_texts.emplace_back(f.text);
        field_bytes += f.text.size();
      }
    }
    post_field_end.push_back(field_texts.size());
  }

  rules::MatchScratch scratch;
  rules::MatchResult result;
  size_t hits = 0, candidates = 0, invalid = 0, hit_posts = 0;
  const double match_passes = Measure(options.min_seconds, [&] {
    hits = candidates = invalid = hit_posts = 0;
    for (const std::string& line : lines) {
      if (!decoder.Decode(line, post, error)) {
        ++invalid;
        continue;
      }
      post.MatchFields(fields, tags);
      if (!rules::MatchPost(*set, fields, scratch, result).ok()) {
        ++invalid;
        continue;
      }
      hits += result.hits.size();
      hit_posts += !result.hits.empty();
      candidates += result.candidates;
    }
  });

  // Where the time goes: decoding alone, and normalising the scanned fields alone.
  const double decode_passes = Measure(options.min_seconds, [&] {
    for (const std::string& line : lines) {
      if (decoder.Decode(line, post, error)) post.MatchFields(fields, tags);
    }
  });
  const rules::Normaliser& normaliser = set->normaliser();
  rules::NormalisedText normalised;
  const double normalise_passes = Measure(options.min_seconds, [&] {
    for (const std::string& text : field_texts) normaliser.Normalise(text, normalised);
  });

  hs_scratch_t* hs_scratch = nullptr;
  for (const hs_database_t* db : {set->literal_db(), set->regex_db()}) {
    if (db) hs_alloc_scratch(db, &hs_scratch);
  }
  const double raw_passes = Measure(options.min_seconds, [&] {
    for (const std::string& text : field_texts) {
      for (const hs_database_t* db : {set->literal_db(), set->regex_db()}) {
        if (db)
          hs_scan(db, text.data(), unsigned(text.size()), 0, hs_scratch, NoopHandler, nullptr);
      }
    }
  });
  hs_free_scratch(hs_scratch);

  RE2::Options re_options;
  re_options.set_log_errors(false);
  re_options.set_case_sensitive(false);
  re_options.set_max_mem(int64_t(1) << 30);
  RE2::Set re2set(re_options, RE2::UNANCHORED);
  for (const rules::Atom& atom : set->atoms()) {
    const std::string pattern =
        atom.kind == rules::Pattern::Kind::kLiteral ? RE2::QuoteMeta(atom.text) : atom.text;
    re2set.Add(pattern, nullptr);
  }
  const bool re2set_ok = re2set.Compile();
  double re2set_passes = 0;
  if (re2set_ok) {
    std::vector<int> matched;
    re2set_passes = Measure(options.min_seconds, [&] {
      for (const std::string& text : field_texts) re2set.Match(text, &matched);
    });
  }

  const double n = double(lines.size());
  nlohmann::json out = {
      {"posts", lines.size()},
      {"bytes", bytes},
      {"field_bytes", field_bytes},
      {"rules", set->rules().size()},
      {"patterns", set->atoms().size()},
      {"compile_s", compile_s},
      {"cache_load_s", cache_load_s},
      {"hits", hits},
      {"posts_with_hits", hit_posts},
      {"candidates", candidates},
      {"invalid", invalid},
      {"match_posts_per_s", match_passes * n},
      {"match_mb_per_s", match_passes * double(bytes) / 1e6},
      {"decode_posts_per_s", decode_passes * n},
      {"normalise_mb_per_s", normalise_passes * double(field_bytes) / 1e6},
      {"raw_hs_posts_per_s", raw_passes * n},
      {"raw_hs_mb_per_s", raw_passes * double(field_bytes) / 1e6},
      {"re2set_posts_per_s", re2set_ok ? re2set_passes * n : 0.0},
      {"match_vs_raw_hs", match_passes / raw_passes},
      {"match_vs_re2set", re2set_ok ? match_passes / re2set_passes : 0.0},
  };
  fmt::print("{}\n", out.dump(2));
  return 0;
}

}  // namespace vigil::ctl
