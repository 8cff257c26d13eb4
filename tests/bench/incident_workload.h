// The workload of incident_store_bench_main.cc: incident keys with the rule condition
// kinds of the shipped packs, their popularity, and the posts (one hit each) built the
// way Pipeline::Process builds them, with realistic sizes. Deterministic: the same
// Workload gives the same posts, byte for byte.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "alerts/incident.h"
#include "core/clock.h"
#include "core/hash.h"
#include "rules/rule.h"

namespace vigil::bench {

struct Workload {
  int64_t hits = 1'000'000;
  int keys = 10'000;
  std::vector<int> mix = {60, 30, 10};  // % of keys: immediate, count 20 within 10m, spike
  double zipf = 1.0;                    // key popularity: rank r gets 1/r^zipf of the hits
  int64_t ms_per_hit = 1;               // simulated time between hits
  int64_t resolve_after_s = 120;
  int partitions = 3;  // posts go round-robin over the source partitions
  uint64_t seed = 7;
};

enum class Kind { kImmediate, kThreshold, kSpike };

// What every hit of one incident key shares: the rule it comes from and where it was seen.
struct KeyProfile {
  Kind kind = Kind::kImmediate;
  std::string key;
  std::string rule_id;
  std::string owner;
  std::string community;
  std::string host;
  rules::Category category = rules::Category::kComplaint;
  rules::Severity severity = rules::Severity::kMedium;
  rules::IncidentSpec spec;
};

// The three condition kinds as the shipped packs write them (complaint_en.yaml,
// sentiment.yaml), with one shorter resolve_after so a run of simulated minutes sees
// incidents resolve and reopen.
inline rules::IncidentSpec SpecFor(Kind kind, std::chrono::seconds resolve_after) {
  rules::IncidentSpec spec;
  spec.group_by = {"community"};
  spec.resolve_after = resolve_after;
  if (kind == Kind::kThreshold) {
    spec.count = 20;
    spec.within = std::chrono::minutes(10);
  } else if (kind == Kind::kSpike) {
    spec.within = std::chrono::minutes(10);
    spec.spike = rules::SpikeSpec{3.0, std::chrono::hours(1), 20};
  }
  return spec;
}

// Severities in the proportions of the shipped packs (of 80 rules: 1 critical, 36 high,
// 28 medium, 14 low, 1 info); the one critical rule inhibits the pages of the others in
// its community while it has an incident open.
inline rules::Severity SeverityOf(int rule) {
  if (rule == 0) return rules::Severity::kCritical;
  if (rule == 39) return rules::Severity::kInfo;
  if (rule % 20 < 9) return rules::Severity::kHigh;
  if (rule % 20 < 16) return rules::Severity::kMedium;
  return rules::Severity::kLow;
}

inline std::vector<KeyProfile> MakeKeys(const Workload& o) {
  static constexpr const char* kPlatforms[][2] = {{"weibo", "weibo.com"},
                                                  {"tieba", "tieba.baidu.com"},
                                                  {"reddit", "www.reddit.com"},
                                                  {"douyin", "www.douyin.com"},
                                                  {"xhs", "www.xiaohongshu.com"}};
  static constexpr const char* kTopics[] = {"refund-delay",   "privacy-leak",  "outage",
                                            "negative-burst", "delivery-lost", "fraud-report",
                                            "price-gouging",  "data-breach"};
  static constexpr const char* kOwners[] = {"cs-team", "legal", "pr", "security", "ops"};
  static constexpr const char* kKindNames[] = {"now", "count", "spike"};
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int> percent(0, 99);
  std::vector<KeyProfile> keys(o.keys);
  for (int k = 0; k < o.keys; ++k) {
    KeyProfile& p = keys[k];
    const int roll = percent(rng);
    p.kind = roll < o.mix[0]              ? Kind::kImmediate
             : roll < o.mix[0] + o.mix[1] ? Kind::kThreshold
                                          : Kind::kSpike;
    const int rule = k % 40;  // 40 rules; 250 communities each at 10k keys
    const auto& platform = kPlatforms[k % 5];
    p.rule_id =
        fmt::format("{}.{}-{:02}", kKindNames[static_cast<int>(p.kind)], kTopics[rule % 8], rule);
    p.owner = kOwners[rule % 5];
    p.category = static_cast<rules::Category>(rule % 4);
    p.severity = SeverityOf(rule);
    p.community = fmt::format("{}/brand-{:05}", platform[0], k / 40);
    p.host = platform[1];
    p.key = p.rule_id + "|community=" + p.community;
    p.spec = SpecFor(p.kind, std::chrono::seconds(o.resolve_after_s));
  }
  return keys;
}

// Masked excerpts of ~120 bytes, half Chinese (3 bytes a character), as the matcher's
// excerpt step leaves them: personal data replaced by '*'.
inline std::vector<std::string> MakeExcerpts(uint64_t seed) {
  static constexpr const char* kFragments[] = {"退款拖了四十多天还没到账，",
                                               "客服电话138****5678一直打不通，",
                                               "身份证号110105********002X被泄露，",
                                               "订单号已经提交三次投诉，",
                                               "平台至今没有任何答复。",
                                               "I was charged twice and ",
                                               "support at j***@example.com never replied, ",
                                               "card ending ****4421 was billed again, ",
                                               "the app has been down since this morning. ",
                                               "this is the third complaint this week; "};
  std::mt19937_64 rng(seed ^ 0x5eed);
  std::uniform_int_distribution<size_t> pick(0, std::size(kFragments) - 1);
  std::vector<std::string> out(512);
  for (std::string& excerpt : out) {
    while (excerpt.size() < 100) excerpt += kFragments[pick(rng)];
  }
  return out;
}

struct Post {
  alerts::HitEvent hit;
  int32_t partition = 0;
  int64_t offset = 0;
};

// The posts of a run, in order: the same seed gives the same posts, so the store run and
// the engine-only run (and every batch size of a sweep) see identical input.
class PostSource {
 public:
  PostSource(const Workload& o, const std::vector<KeyProfile>& keys,
             const std::vector<std::string>& excerpts)
      : workload_(o), keys_(keys), excerpts_(excerpts), rng_(o.seed + 1), rank_to_key_(o.keys) {
    double total = 0;
    cdf_.reserve(o.keys);
    for (int r = 0; r < o.keys; ++r) cdf_.push_back(total += 1.0 / std::pow(r + 1, o.zipf));
    for (int r = 0; r < o.keys; ++r) rank_to_key_[r] = r;
    std::shuffle(rank_to_key_.begin(), rank_to_key_.end(), rng_);  // hot keys of every kind
  }

  TimePoint start() const { return start_; }

  Post Next() {
    std::uniform_real_distribution<double> u(0, cdf_.back());
    const auto rank = std::lower_bound(cdf_.begin(), cdf_.end(), u(rng_)) - cdf_.begin();
    const KeyProfile& key = keys_[rank_to_key_[std::min<size_t>(rank, cdf_.size() - 1)]];
    const std::string& excerpt = excerpts_[seq_ % excerpts_.size()];
    const std::string post_id =
        fmt::format("{}:{}", key.community.substr(0, key.community.find('/')),
                    4'870'000'000'000'000 + seq_ * 7919);
    Post post;
    post.partition = static_cast<int32_t>(seq_ % workload_.partitions);
    post.offset = seq_ / workload_.partitions;
    // The fields Pipeline::Process fills, by name (HitEvent grows fields over time).
    alerts::HitEvent& hit = post.hit;
    hit.incident_key = key.key;
    hit.rule_id = key.rule_id;
    hit.category = key.category;
    hit.severity = key.severity;
    hit.owner = key.owner;
    hit.spec = key.spec;
    hit.post_id = post_id;
    hit.url = fmt::format("https://{}/{}/{}", key.host, key.community, post_id);
    hit.community = key.community;
    hit.excerpt = excerpt;
    hit.content_hash = Sha256Hex(post_id + '\x1f' + excerpt);
    hit.at = start_ + std::chrono::milliseconds((seq_ + 1) * workload_.ms_per_hit);
    ++seq_;
    return post;
  }

 private:
  const Workload& workload_;
  const std::vector<KeyProfile>& keys_;
  const std::vector<std::string>& excerpts_;
  std::mt19937_64 rng_;
  std::vector<double> cdf_;
  std::vector<int> rank_to_key_;
  int64_t seq_ = 0;
  const TimePoint start_ = TimePoint(std::chrono::seconds(1'800'000'000));
};

}  // namespace vigil::bench
