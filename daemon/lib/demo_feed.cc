#include "daemon/lib/demo_feed.h"

#include <chrono>
#include <fstream>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace vigil::daemon {

DemoFeed::DemoFeed(DemoFeedOptions options, connectors::KafkaProducer& producer)
    : options_(std::move(options)), producer_(producer) {}

DemoFeed::~DemoFeed() { Stop(); }

Status DemoFeed::Start() {
  std::ifstream in(options_.file, std::ios::binary);
  if (!in) return Error{"demo.feed " + options_.file + ": cannot read the file"};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(std::move(line));
  }
  if (lines.empty()) return Error{"demo.feed " + options_.file + ": no posts in the file"};
  spdlog::info("demo: replaying {} posts from {} at {}/s{}", lines.size(), options_.file,
               options_.rate_per_s, options_.loop ? ", looping" : "");
  thread_ = std::thread([this, lines = std::move(lines)]() mutable { Run(std::move(lines)); });
  return Status::Ok();
}

void DemoFeed::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DemoFeed::Run(std::vector<std::string> lines) {
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / std::max(0.001, options_.rate_per_s)));
  auto next = std::chrono::steady_clock::now();
  for (int pass = 1;; ++pass) {
    for (const std::string& line : lines) {
      {
        std::unique_lock lock(mutex_);
        if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
      }
      next += interval;
      std::string value = line, key;
      nlohmann::json post = nlohmann::json::parse(line, nullptr, false);
      if (post.is_object() && post.contains("id")) {
        key = post["id"].is_string() ? post["id"].get<std::string>() : post["id"].dump();
        // Later passes are new posts: fresh ids, so they count as new evidence.
        if (pass > 1) post["id"] = key += "~" + std::to_string(pass);
        value = post.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }  // else: sent as is; the daemon dead-letters it, which the demo shows too
      Status queued = producer_.Produce({options_.topic, key, std::move(value), {}},
                                        [](const Status& delivered) {
                                          if (!delivered.ok())
                                            spdlog::warn("demo: {}", delivered.error().message);
                                        });
      if (!queued.ok()) {
        spdlog::warn("demo: {}", queued.error().message);
        return;
      }
      ++sent_;
    }
    if (!options_.loop) return;
  }
}

}  // namespace vigil::daemon
