#include "daemon/lib/post_ingest.h"

#include <condition_variable>
#include <mutex>

#include <simdjson.h>
#include <nlohmann/json.hpp>

namespace vigil::daemon {
namespace {

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

Result<std::vector<IngestItem>> SplitIngestBody(std::string_view body) {
  const std::string_view trimmed = Trim(body);
  if (trimmed.empty())
    return Error{"empty body: expected a JSON post, an array of posts, or NDJSON"};
  std::vector<IngestItem> items;
  if (trimmed.front() == '[') {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto err = parser.parse(trimmed.data(), trimmed.size()).get(root); err) {
      return Error{std::string("body is not a JSON array: ") + simdjson::error_message(err)};
    }
    simdjson::dom::array array;
    if (root.get_array().get(array)) return Error{"body is not a JSON array"};
    size_t index = 0;
    for (simdjson::dom::element element : array)
      items.push_back({++index, simdjson::minify(element)});
    if (items.empty()) return Error{"empty array: no posts"};
    return items;
  }
  // One post, or NDJSON (one post per line; blank lines skipped).
  size_t line_number = 0, start = 0;
  while (start <= body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    ++line_number;
    const std::string_view line = Trim(body.substr(start, end - start));
    if (!line.empty()) items.push_back({line_number, std::string(line)});
    start = end + 1;
  }
  return items;
}

ProduceOutcome ProduceAndWait(connectors::KafkaProducer& producer, const std::string& topic,
                              std::vector<std::pair<std::string, std::string>> keyed_posts,
                              std::chrono::milliseconds timeout) {
  struct Waiter {
    std::mutex mutex;
    std::condition_variable cv;
    size_t outstanding = 0, acknowledged = 0;
    std::string error;
  };
  auto waiter = std::make_shared<Waiter>();
  ProduceOutcome outcome;
  for (auto& [key, value] : keyed_posts) {
    {
      std::lock_guard lock(waiter->mutex);
      ++waiter->outstanding;
    }
    Status queued =
        producer.Produce(connectors::OutMessage{topic, std::move(key), std::move(value), {}},
                         [waiter](const Status& delivered) {
                           std::lock_guard lock(waiter->mutex);
                           --waiter->outstanding;
                           if (delivered.ok()) {
                             ++waiter->acknowledged;
                           } else if (waiter->error.empty()) {
                             waiter->error = delivered.error().message;
                           }
                           waiter->cv.notify_all();
                         });
    if (!queued.ok()) {
      std::lock_guard lock(waiter->mutex);
      --waiter->outstanding;
      if (waiter->error.empty()) waiter->error = queued.error().message;
      break;
    }
  }
  std::unique_lock lock(waiter->mutex);
  if (!waiter->cv.wait_for(lock, timeout, [&] { return waiter->outstanding == 0; })) {
    if (waiter->error.empty()) waiter->error = "Kafka did not acknowledge in time";
  }
  outcome.acknowledged = waiter->acknowledged;
  outcome.error = waiter->error;
  return outcome;
}

HttpResponse HandleIngest(const HttpRequest& request, connectors::KafkaProducer* producer,
                          const IngestOptions& options) {
  auto items = SplitIngestBody(request.body);
  if (!items.ok()) return HttpResponse::JsonError(400, items.error().message);
  connectors::PostDecoder decoder(options.limits);
  connectors::PostView post;
  connectors::PostError error;
  nlohmann::json problems = nlohmann::json::array();
  std::vector<std::pair<std::string, std::string>> keyed;
  for (IngestItem& item : *items) {
    if (!decoder.Decode(item.json, post, error)) {
      problems.push_back({{"item", item.number},
                          {"reason", connectors::InvalidReasonName(error.reason)},
                          {"detail", error.detail}});
      continue;
    }
    keyed.emplace_back(std::string(post.id), std::move(item.json));
  }
  if (!problems.empty()) {
    HttpResponse response;
    response.status = 400;
    response.body = nlohmann::json{
        {"error", std::to_string(problems.size()) + " of " + std::to_string(items->size()) +
                      " posts are invalid; none was accepted"},
        {"invalid",
         problems}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return response;
  }
  if (producer == nullptr)
    return HttpResponse::JsonError(503, "ingest is not available: no Kafka producer");
  const size_t count = keyed.size();
  ProduceOutcome outcome =
      ProduceAndWait(*producer, options.topic, std::move(keyed), options.ack_timeout);
  if (!outcome.error.empty()) {
    HttpResponse response = HttpResponse::JsonError(503, "Kafka unavailable: " + outcome.error);
    response.body = nlohmann::json{
        {"error", "Kafka unavailable: " + outcome.error},
        {"acknowledged", outcome.acknowledged},
        {"posts",
         count}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    response.headers.emplace_back("Retry-After", "5");
    return response;
  }
  HttpResponse response;
  response.status = 202;
  response.body = nlohmann::json{{"accepted", count}, {"topic", options.topic}}.dump();
  return response;
}

}  // namespace vigil::daemon
