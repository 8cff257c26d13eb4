// What the metrics cost: the per-post work on the matching path (one histogram
// observation, a counter per candidate and per hit) and a scrape of /metrics with a
// large rule set (two series per rule). Figures in README.md.
#include "daemon/lib/metrics.h"

#include <string>

#include <benchmark/benchmark.h>

#include "rules/rule_engine.h"

namespace vigil::daemon {
namespace {

std::shared_ptr<const rules::RuleSet> LiteralRules(int n) {
  std::string yaml = "rules:\n";
  for (int i = 0; i < n; ++i) {
    yaml += "  - id: bench.rule_" + std::to_string(i) +
            "\n    category: complaint\n    severity: medium\n    owner: customer_service\n"
            "    when: {all: [word" +
            std::to_string(i) + "x]}\n";
  }
  rules::Diagnostics diagnostics;
  rules::LoadOptions options;
  options.check_examples = false;
  auto set = rules::LoadRuleSet(std::vector<rules::RuleSource>{{"bench.yaml", yaml}}, options,
                                diagnostics);
  return set.ok() ? *set : nullptr;
}

// A post's metric work as Pipeline::Count does it: 4 candidates, 1 hit.
void BM_PerPostMetrics(benchmark::State& state) {
  static Metrics metrics;
  static auto set = LiteralRules(100);
  auto counters = metrics.CountersFor(*set);
  double seconds = 2e-5;
  for (auto _ : state) {
    metrics.match_duration().Observe(seconds);
    for (size_t r : {3u, 17u, 42u, 99u}) counters->candidates[r]->Increment();
    counters->hits[42]->Increment();
    seconds += 1e-9;
  }
}
BENCHMARK(BM_PerPostMetrics)->Threads(1)->Threads(2);

// The match-duration histogram alone, as every worker observes it once per post.
void BM_MatchHistogram(benchmark::State& state) {
  static Metrics metrics;
  double seconds = 2e-5;
  for (auto _ : state) {
    metrics.match_duration().Observe(seconds);
    seconds += 1e-9;
  }
}
BENCHMARK(BM_MatchHistogram)->Threads(1)->Threads(2);

// A scrape: Render() with `n` rules (the sources are not registered: this is the
// registry's part, which grows with the rules).
void BM_RenderWithRules(benchmark::State& state) {
  Metrics metrics;
  auto set = LiteralRules(static_cast<int>(state.range(0)));
  if (set == nullptr) {
    state.SkipWithError("the rules did not compile");
    return;
  }
  auto counters = metrics.CountersFor(*set);
  for (auto* c : counters->hits) c->Increment(12345);
  size_t bytes = 0;
  for (auto _ : state) bytes = metrics.Render().size();
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderWithRules)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil::daemon
