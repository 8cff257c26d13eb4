// HTTP ingest (`POST /api/v1/posts`): a JSON post, a JSON array of posts, or NDJSON.
// Every post is validated first; if any is bad the answer is 400 with a reason per
// line/item and nothing is produced (a client fixes and resends the batch as a whole).
// Otherwise all are produced to the posts topic (key: post id) and the answer is 202
// only once Kafka acknowledged every one (acks=all); 503 if Kafka did not in time.
#pragma once

#include <chrono>
#include <string_view>

#include "connectors/kafka_producer.h"
#include "connectors/post.h"
#include "daemon/lib/http_server.h"

namespace vigil::daemon {

struct IngestOptions {
  std::string topic = "vigil.posts";
  connectors::DecoderLimits limits;
  std::chrono::milliseconds ack_timeout{15000};
};

// Splits a body into posts (raw JSON text each, with its 1-based line or item number).
// An error means the body as a whole is not JSON / NDJSON.
struct IngestItem {
  size_t number = 0;  // line (NDJSON) or array index + 1
  std::string json;
};
Result<std::vector<IngestItem>> SplitIngestBody(std::string_view body);

// Produces `posts` (already valid) and waits for every acknowledgement. Returns how many
// were acknowledged and the first failure, if any.
struct ProduceOutcome {
  size_t acknowledged = 0;
  std::string error;  // empty when all were acknowledged
};
ProduceOutcome ProduceAndWait(connectors::KafkaProducer& producer, const std::string& topic,
                              std::vector<std::pair<std::string, std::string>> keyed_posts,
                              std::chrono::milliseconds timeout);

HttpResponse HandleIngest(const HttpRequest& request, connectors::KafkaProducer* producer,
                          const IngestOptions& options);

}  // namespace vigil::daemon
