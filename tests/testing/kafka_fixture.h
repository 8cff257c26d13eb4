// Helpers for tests against the embedded broker (librdkafka's mock cluster): reading a
// whole topic back, waiting for a condition with a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

namespace vigil::testing {

struct ReadMessage {
  std::string key, value;
  int32_t partition = 0;
  int64_t offset = 0;
  std::map<std::string, std::string> headers;
};

// Reads every message of `topic` (partitions 0..partitions-1) from the beginning until
// `expected` messages arrived or `deadline` passed; then waits `settle` for extra ones.
inline std::vector<ReadMessage> ReadTopic(
    const std::string& brokers, const std::string& topic, int partitions, size_t expected,
    std::chrono::milliseconds deadline = std::chrono::seconds(60),
    std::chrono::milliseconds settle = std::chrono::milliseconds(300)) {
  std::string reason;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, reason);
  conf->set("group.id", "vigil-test-reader", reason);
  conf->set("enable.auto.commit", "false", reason);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), reason));
  EXPECT_TRUE(consumer) << reason;
  if (!consumer) return {};
  std::vector<RdKafka::TopicPartition*> assignment;
  for (int p = 0; p < partitions; ++p) {
    assignment.push_back(
        RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  std::vector<ReadMessage> out;
  const auto until = std::chrono::steady_clock::now() + deadline;
  auto settle_until = std::chrono::steady_clock::time_point::max();
  while (std::chrono::steady_clock::now() < std::min(until, settle_until)) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      ReadMessage r;
      if (m->key()) r.key = *m->key();
      r.value.assign(static_cast<const char*>(m->payload()), m->len());
      r.partition = m->partition();
      r.offset = m->offset();
      if (RdKafka::Headers* headers = m->headers()) {
        for (const RdKafka::Headers::Header& h : headers->get_all()) {
          r.headers[h.key()] = std::string(static_cast<const char*>(h.value()), h.value_size());
        }
      }
      out.push_back(std::move(r));
    }
    if (out.size() >= expected && settle_until == std::chrono::steady_clock::time_point::max()) {
      settle_until = std::chrono::steady_clock::now() + settle;
    }
  }
  consumer->close();
  return out;
}

// Polls `condition` until it holds or `deadline` passes (generous: only a failing test
// waits that long, and sanitizer builds under load are slow). For conditions that depend on
// other threads doing real work (not on timers).
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace vigil::testing
