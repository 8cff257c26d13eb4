#include "connectors/offset_tracker.h"

#include <algorithm>

namespace vigil::connectors {

void OffsetTracker::Consumed(const PartitionKey& partition, int64_t offset) {
  Window& window = partitions_[partition];
  if (!window.offsets.empty() && offset <= window.offsets.back().first) {
    in_flight_ -= window.offsets.size();
    window.offsets.clear();
  }
  window.offsets.emplace_back(offset, false);
  ++in_flight_;
}

std::optional<int64_t> OffsetTracker::Done(const PartitionKey& partition, int64_t offset) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return std::nullopt;
  auto& offsets = it->second.offsets;
  auto entry = std::lower_bound(offsets.begin(), offsets.end(), std::make_pair(offset, false),
                                [](const auto& a, const auto& b) { return a.first < b.first; });
  if (entry == offsets.end() || entry->first != offset || entry->second) return std::nullopt;
  entry->second = true;
  std::optional<int64_t> next;
  while (!offsets.empty() && offsets.front().second) {
    next = offsets.front().first + 1;
    offsets.pop_front();
    --in_flight_;
  }
  return next;
}

void OffsetTracker::Reset(const PartitionKey& partition) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return;
  in_flight_ -= it->second.offsets.size();
  partitions_.erase(it);
}

size_t OffsetTracker::in_flight(const PartitionKey& partition) const {
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? 0 : it->second.offsets.size();
}

}  // namespace vigil::connectors
