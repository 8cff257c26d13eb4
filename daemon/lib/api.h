// The daemon's HTTP API (DESIGN.md, "Contracts"): health, readiness, status, rules,
// rule testing and reload, and post ingest. Handlers read the daemon's parts through
// this context; they own none of them.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "alerts/pager.h"
#include "alerts/state_store.h"
#include "connectors/kafka_consumer.h"
#include "connectors/kafka_producer.h"
#include "daemon/lib/alert_sink.h"
#include "daemon/lib/config.h"
#include "daemon/lib/http_server.h"
#include "daemon/lib/pipeline.h"
#include "daemon/lib/rule_holder.h"

namespace vigil::daemon {

class AccessControl;
class AuditLog;

struct ApiContext {
  const Config* config = nullptr;
  std::string bootstrap;  // the Kafka bootstrap in use (the embedded broker's address too)
  RuleHolder* rules = nullptr;
  connectors::KafkaConsumer* consumer = nullptr;         // may be null (tests)
  const Pipeline* pipeline = nullptr;                    // may be null (tests)
  connectors::KafkaProducer* ingest_producer = nullptr;  // may be null: ingest answers 503
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  // Runs a reload (the API's and SIGHUP's path to the same thing).
  std::function<ReloadOutcome()> reload;
  AlertSink* alerts = nullptr;          // incidents: acknowledge, resolve (may be null)
  alerts::StateStore* store = nullptr;  // incidents: reads (may be null)
  alerts::Pager* pager = nullptr;       // acknowledge links (may be null)
  // Who may call what (auth.h); null: open, every caller unauthenticated (tests).
  const AccessControl* access = nullptr;
  AuditLog* audit = nullptr;  // operator actions on the API (may be null: not recorded)
};

// Registers every route with the role it needs, and the access guard.
void RegisterApi(HttpServer& server, ApiContext& context);
// `body` as compact JSON with `status`; invalid UTF-8 becomes U+FFFD instead of throwing.
HttpResponse JsonResponse(int status, const nlohmann::json& body);
// Incidents, silences and acknowledge links (api_incidents.cc); part of RegisterApi.
void RegisterIncidentApi(HttpServer& server, ApiContext& context);

}  // namespace vigil::daemon
