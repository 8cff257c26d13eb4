// Vigil's Prometheus metrics (names and meanings: docs/metrics.md), served as text
// exposition at GET /metrics by the daemon's HTTP server.
//
// Two kinds of values:
//  - per-rule counters are prometheus-cpp objects in one registry, and histograms are
//    lock-free AtomicHistograms, both updated on the data path;
//  - everything the daemon already counts (PipelineStats, AlertSinkStats, the pager's
//    counters, the consumer's lag, queue depths, the state store's outbox) is read at
//    scrape time by sources, so no count is kept twice.
// No label takes unbounded values: rule ids, categories, severities, channel names and
// partitions come from configuration, reasons and outcomes from fixed lists.
//
// Thread safety: all methods may be called from any thread. Sources run on the scraping
// thread and must only read thread-safe state.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "rules/rule_set.h"

namespace vigil::daemon {

// Builds metric families at scrape time: one family per name, however many calls add
// samples to it.
class MetricWriter {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  void Counter(const std::string& name, const std::string& help, double value,
               const Labels& labels = {});
  void Gauge(const std::string& name, const std::string& help, double value,
             const Labels& labels = {});
  // Declares a family without samples (a labelled family with nothing to report yet still
  // appears, with its HELP and TYPE).
  void Declare(const std::string& name, const std::string& help, prometheus::MetricType type);

  std::vector<prometheus::MetricFamily> Take();

 private:
  prometheus::MetricFamily& Family(const std::string& name, const std::string& help,
                                   prometheus::MetricType type);
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, size_t> index_;
};

// A histogram that observes without a lock and without sharing: each thread adds to its
// own shard (relaxed atomics on cache lines of its own), and a scrape sums the shards. The
// matching workers observe every post; prometheus::Histogram takes one mutex per
// observation, which the workers would contend for. A scrape may see a sum a moment behind
// its counts.
class AtomicHistogram {
 public:
  static constexpr size_t kMaxBounds = 15;
  // REQUIRES: bounds ascending, at most kMaxBounds (+Inf is implied).
  AtomicHistogram(std::string name, std::string help, std::vector<double> bounds);
  void Observe(double value);
  prometheus::MetricFamily Collect() const;

 private:
  static constexpr size_t kShards = 8;  // threads beyond this share shards (still correct)
  struct alignas(64) Shard {
    std::array<std::atomic<uint64_t>, kMaxBounds + 1> counts{};  // per bound, then +Inf
    std::atomic<double> sum{0};
  };
  const std::string name_, help_;
  const std::vector<double> bounds_;
  std::array<Shard, kShards> shards_;
};

// One rule set's per-rule counters, indexed like RuleSet::rules(). A worker keeps the
// table of the set it matches with and fetches a new one when the set changes.
struct RuleCounters {
  uint64_t serial = 0;  // RuleSet::serial()
  std::vector<prometheus::Counter*> hits;
  std::vector<prometheus::Counter*> candidates;
};

class Metrics {
 public:
  Metrics();

  AtomicHistogram& match_duration() { return match_duration_; }
  AtomicHistogram& end_to_end_latency() { return end_to_end_latency_; }
  AtomicHistogram& commit_duration() { return commit_duration_; }

  // The counters of `set`'s rules (vigil_hits_total, vigil_rule_candidates_total). A
  // rule keeps its series across reloads, so counts stay monotonic.
  std::shared_ptr<const RuleCounters> CountersFor(const rules::RuleSet& set);

  using Source = std::function<void(MetricWriter&)>;
  void AddSource(Source source);

  // The text exposition format (version 0.0.4).
  std::string Render() const;
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  AtomicHistogram match_duration_;
  AtomicHistogram end_to_end_latency_;
  AtomicHistogram commit_duration_;
  prometheus::Family<prometheus::Counter>* hits_;
  prometheus::Family<prometheus::Counter>* candidates_;

  std::mutex counters_mutex_;
  std::shared_ptr<const RuleCounters> counters_;  // GUARDED_BY(counters_mutex_)

  mutable std::mutex sources_mutex_;
  std::vector<Source> sources_;  // GUARDED_BY(sources_mutex_)
};

// process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds,
// process_open_fds, process_max_fds, from /proc/self (the standard process metrics).
void WriteProcessMetrics(MetricWriter& out);

}  // namespace vigil::daemon
