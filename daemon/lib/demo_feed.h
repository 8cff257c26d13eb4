// The embedded demo's traffic: replays a JSON Lines file of posts into the posts topic
// at a steady rate, looping with fresh post ids ("<id>~2" on the second pass, ...), so
// the README's first command shows hits arriving like a live community would.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "connectors/kafka_producer.h"
#include "core/result.h"

namespace vigil::daemon {

struct DemoFeedOptions {
  std::string file;
  std::string topic = "vigil.posts";
  double rate_per_s = 20;
  bool loop = true;
};

class DemoFeed {
 public:
  DemoFeed(DemoFeedOptions options, connectors::KafkaProducer& producer);
  ~DemoFeed();
  Status Start();  // fails if the file cannot be read or holds no lines
  void Stop();
  uint64_t sent() const { return sent_; }

 private:
  void Run(std::vector<std::string> lines);
  DemoFeedOptions options_;
  connectors::KafkaProducer& producer_;
  std::atomic<uint64_t> sent_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace vigil::daemon
