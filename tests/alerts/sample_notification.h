// A page as the escalation stage would hand it to the notifiers, and helpers to read what
// a notifier rendered, for the notifier and sender tests.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alerts/notifier.h"

namespace vigil::testing {

inline alerts::Notification SamplePage() {
  alerts::Notification n;
  n.kind = "page";
  n.incident_id = 42;
  n.idempotency_key = "incident-42-page-0";
  n.title = "[HIGH] privacy_leak: privacy.cn_resident_id in 拾光吧";
  n.severity = "high";
  n.category = "privacy_leak";
  n.rule_id = "privacy.cn_resident_id";
  n.owner = "legal";
  n.community = "拾光吧";
  n.state = "open";
  n.hits = 17;
  n.escalation_level = 1;
  n.incident_url = "https://vigil.example/incidents/42";
  n.ack_url = "https://vigil.example/incidents/42/ack";
  n.excerpts = {"我的身份证号 110105********002X 被贴出来了", "again: 110105********002X"};
  n.opened_ms = 1'893'456'000'000;     // 2030-01-01T00:00:00Z
  n.timestamp_ms = 1'893'456'060'000;  // a minute later
  return n;
}

// `count` distinct excerpts of about 100 bytes, numbered so the order can be checked.
inline std::vector<std::string> ManyExcerpts(size_t count) {
  std::vector<std::string> excerpts;
  for (size_t i = 0; i < count; ++i)
    excerpts.push_back("excerpt #" + std::to_string(i) + " 退款一个月了还没到账，客服一直不处理 " +
                       std::string(40, 'x'));
  return excerpts;
}

// Every string value in a JSON document, joined by newlines: the text a person can see.
inline std::string AllStrings(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>() + "\n";
  std::string out;
  if (value.is_structured())
    for (const auto& item : value) out += AllStrings(item);
  else if (!value.is_null())
    out += value.dump() + "\n";
  return out;
}

// How many of ManyExcerpts(...) a text shows: the count of "excerpt #<i> " in order.
inline size_t CountShown(const std::string& text, size_t total) {
  size_t shown = 0;
  while (shown < total && text.find("excerpt #" + std::to_string(shown) + " ") != std::string::npos)
    ++shown;
  return shown;
}

}  // namespace vigil::testing
