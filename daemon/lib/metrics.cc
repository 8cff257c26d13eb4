#include "daemon/lib/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <fstream>
#include <limits>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "rules/rule.h"

namespace vigil::daemon {

namespace {

prometheus::ClientMetric Sample(const MetricWriter::Labels& labels) {
  prometheus::ClientMetric metric;
  for (const auto& [name, value] : labels) metric.label.push_back({name, value});
  return metric;
}

}  // namespace

prometheus::MetricFamily& MetricWriter::Family(const std::string& name, const std::string& help,
                                               prometheus::MetricType type) {
  auto [it, added] = index_.try_emplace(name, families_.size());
  if (added) families_.push_back({name, help, type, {}});
  prometheus::MetricFamily& family = families_[it->second];
  if (family.help.empty()) family.help = help;  // the first caller with a text names it
  return family;
}

void MetricWriter::Declare(const std::string& name, const std::string& help,
                           prometheus::MetricType type) {
  Family(name, help, type);
}

void MetricWriter::Counter(const std::string& name, const std::string& help, double value,
                           const Labels& labels) {
  prometheus::ClientMetric metric = Sample(labels);
  metric.counter.value = value;
  Family(name, help, prometheus::MetricType::Counter).metric.push_back(std::move(metric));
}

void MetricWriter::Gauge(const std::string& name, const std::string& help, double value,
                         const Labels& labels) {
  prometheus::ClientMetric metric = Sample(labels);
  metric.gauge.value = value;
  Family(name, help, prometheus::MetricType::Gauge).metric.push_back(std::move(metric));
}

std::vector<prometheus::MetricFamily> MetricWriter::Take() {
  index_.clear();
  return std::move(families_);
}

AtomicHistogram::AtomicHistogram(std::string name, std::string help, std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), bounds_(std::move(bounds)) {
  assert(bounds_.size() <= kMaxBounds && std::is_sorted(bounds_.begin(), bounds_.end()));
}

void AtomicHistogram::Observe(double value) {
  static std::atomic<size_t> next_shard{0};
  thread_local const size_t shard = next_shard.fetch_add(1) % kShards;
  // The first bucket whose upper bound holds the value (le: less than or equal).
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  Shard& mine = shards_[shard];
  mine.counts[bucket].fetch_add(1, std::memory_order_relaxed);
  mine.sum.fetch_add(value, std::memory_order_relaxed);
}

prometheus::MetricFamily AtomicHistogram::Collect() const {
  prometheus::ClientMetric metric;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    for (const Shard& shard : shards_)
      cumulative += shard.counts[i].load(std::memory_order_relaxed);
    metric.histogram.bucket.push_back(
        {cumulative, i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity()});
  }
  metric.histogram.sample_count = cumulative;
  for (const Shard& shard : shards_)
    metric.histogram.sample_sum += shard.sum.load(std::memory_order_relaxed);
  return {name_, help_, prometheus::MetricType::Histogram, {std::move(metric)}};
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      match_duration_(
          "vigil_match_duration_seconds",
          "Time to match one post against the rule set (decode excluded).",
          {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1}),
      end_to_end_latency_(
          "vigil_end_to_end_latency_seconds",
          "From a post's Kafka timestamp (produce time) to its hits committed to the incidents "
          "in the state store; posts with hits only.",
          {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      commit_duration_(
          "vigil_state_commit_duration_seconds",
          "One state-store transaction: incident changes, evidence, outbox and offsets of a "
          "batch.",
          {5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {
  hits_ = &prometheus::BuildCounter()
               .Name("vigil_hits_total")
               .Help("Confirmed rule hits, by rule.")
               .Register(*registry_);
  candidates_ = &prometheus::BuildCounter()
                     .Name("vigil_rule_candidates_total")
                     .Help(
                         "Posts where a rule was a prefilter candidate (every part occurred in "
                         "the Hyperscan scan), by rule; compare with vigil_hits_total.")
                     .Register(*registry_);
}

std::shared_ptr<const RuleCounters> Metrics::CountersFor(const rules::RuleSet& set) {
  std::lock_guard lock(counters_mutex_);
  if (counters_ && counters_->serial == set.serial()) return counters_;
  auto table = std::make_shared<RuleCounters>();
  table->serial = set.serial();
  for (const rules::CompiledRule& rule : set.rules()) {
    const rules::RuleDef& def = rule.def;
    table->hits.push_back(
        &hits_->Add({{"rule", def.id},
                     {"category", std::string(rules::CategoryName(def.category))},
                     {"severity", std::string(rules::SeverityName(def.severity))}}));
    table->candidates.push_back(&candidates_->Add({{"rule", def.id}}));
  }
  counters_ = table;
  return counters_;
}

void Metrics::AddSource(Source source) {
  std::lock_guard lock(sources_mutex_);
  sources_.push_back(std::move(source));
}

std::string Metrics::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (const AtomicHistogram* histogram :
       {&match_duration_, &end_to_end_latency_, &commit_duration_})
    families.push_back(histogram->Collect());
  MetricWriter writer;
  {
    std::lock_guard lock(sources_mutex_);
    for (const Source& source : sources_) source(writer);
  }
  for (prometheus::MetricFamily& family : writer.Take()) families.push_back(std::move(family));
  std::sort(families.begin(), families.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

void WriteProcessMetrics(MetricWriter& out) {
  // /proc/self/stat: fields after the command name (which may hold spaces), from field 3.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f;
    for (std::string field; fields >> field;) f.push_back(field);
    // f[0] is field 3 (state): utime is field 14, stime 15, starttime 22, rss 24.
    if (f.size() > 21) {
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
      out.Counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds.",
                  (std::stod(f[11]) + std::stod(f[12])) / ticks);
      out.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                std::stod(f[21]) * page);
      // Boot time + start ticks: the start time since the epoch.
      std::ifstream boot("/proc/stat");
      for (std::string line; std::getline(boot, line);) {
        if (line.rfind("btime ", 0) == 0) {
          out.Gauge("process_start_time_seconds",
                    "Start time of the process since the Unix epoch, in seconds.",
                    std::stod(line.substr(6)) + std::stod(f[19]) / ticks);
          break;
        }
      }
    }
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    int n = 0;
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++n;
    }
    closedir(dir);
    out.Gauge("process_open_fds", "Number of open file descriptors.", n - 1);  // minus the DIR
  }
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.Gauge("process_max_fds", "Maximum number of open file descriptors.",
              static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace vigil::daemon
