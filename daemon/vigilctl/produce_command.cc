// vigilctl produce: posts (JSON Lines) from a file or stdin into a Kafka topic. Every
// line is validated first; bad lines are reported with their numbers and skipped, the
// rest are sent. On a terminal a progress line shows how far it got.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>

#include <fmt/format.h>

#include "connectors/kafka_producer.h"
#include "connectors/post.h"
#include "daemon/vigilctl/commands.h"

namespace vigil::ctl {

int Produce(const ProduceOptions& options) {
  LineInput input;
  if (!input.Open(options.input)) return 1;

  connectors::ProducerOptions producer_options;
  producer_options.brokers = options.brokers;
  producer_options.message_timeout_ms = options.timeout_ms;
  producer_options.client_id = "vigilctl";
  auto producer = connectors::KafkaProducer::Create(producer_options);
  if (!producer.ok()) {
    fmt::print(stderr, "{}\n", producer.error().message);
    return 1;
  }

  std::atomic<uint64_t> acknowledged{0}, failed{0};
  std::string first_failure;
  std::mutex failure_mutex;
  const bool progress = isatty(STDERR_FILENO) != 0;
  auto last_progress = std::chrono::steady_clock::now();
  connectors::PostDecoder decoder;
  connectors::PostView post;
  size_t sent = 0;
  while (input.NextPost(decoder, post)) {
    Status queued =
        (*producer)->Produce({options.topic, std::string(post.id), std::move(input.line), {}},
                             [&](const Status& delivered) {
                               if (delivered.ok()) {
                                 ++acknowledged;
                                 return;
                               }
                               ++failed;
                               std::lock_guard lock(failure_mutex);
                               if (first_failure.empty()) first_failure = delivered.error().message;
                             });
    if (!queued.ok()) {
      fmt::print(stderr, "{}:{}: {}\n", input.name, input.line_number, queued.error().message);
      ++failed;
      continue;
    }
    ++sent;
    if (progress &&
        std::chrono::steady_clock::now() - last_progress > std::chrono::milliseconds(250)) {
      last_progress = std::chrono::steady_clock::now();
      fmt::print(stderr, "\r{} sent, {} acknowledged, {} bad lines", sent, acknowledged.load(),
                 input.bad);
    }
  }
  if (!(*producer)->Flush(options.timeout_ms > 0 ? options.timeout_ms + 1000 : 60000)) {
    fmt::print(stderr, "{}timed out waiting for the broker\n", progress ? "\n" : "");
  }
  const uint64_t unacknowledged =
      sent - acknowledged.load() - std::min<uint64_t>(failed.load(), sent);
  fmt::print(stderr, "{}{} posts sent to {} ({} acknowledged, {} failed), {} bad lines\n",
             progress ? "\r" : "", sent, options.topic, acknowledged.load(),
             failed.load() + unacknowledged, input.bad);
  if (!first_failure.empty()) fmt::print(stderr, "first failure: {}\n", first_failure);
  return input.bad == 0 && failed == 0 && acknowledged == sent ? 0 : 1;
}

}  // namespace vigil::ctl
