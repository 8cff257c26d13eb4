// Which offsets of a partition may be committed: the consumer hands posts to workers and
// the producer acknowledges their hits in any order, but an offset may be stored only
// when every post before it is done too (at-least-once). Per partition, the tracker
// keeps the offsets in flight in consumption order and advances a watermark over the
// done prefix.
//
// Not thread-safe: the consumer thread owns it (completions reach it through a queue).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace vigil::connectors {

struct PartitionKey {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const PartitionKey&) const = default;
};

class OffsetTracker {
 public:
  // A post at `offset` was consumed. REQUIRES: offsets of a partition arrive ascending
  // (a lower or repeated offset, as after a seek, restarts the partition's window).
  void Consumed(const PartitionKey& partition, int64_t offset);

  // The post at `offset` is done. Returns the offset to store (the next one to consume,
  // i.e. last done + 1) when the watermark advanced, nothing otherwise. Unknown
  // partitions and offsets (revoked meanwhile) are ignored.
  std::optional<int64_t> Done(const PartitionKey& partition, int64_t offset);

  // Forgets a partition (revoked or newly assigned).
  void Reset(const PartitionKey& partition);
  void Clear() { partitions_.clear(), in_flight_ = 0; }

  size_t in_flight() const { return in_flight_; }
  size_t in_flight(const PartitionKey& partition) const;

 private:
  struct Window {
    std::deque<std::pair<int64_t, bool>> offsets;  // ascending; second: done
  };
  std::map<PartitionKey, Window> partitions_;
  size_t in_flight_ = 0;
};

}  // namespace vigil::connectors
