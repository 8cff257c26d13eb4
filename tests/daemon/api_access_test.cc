// Access control on the real API: every route registered by RegisterApi and /metrics
// against every kind of caller, the actor recorded for an action, and the audit log.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "daemon/lib/api.h"
#include "daemon/lib/daemon_metrics.h"
#include "daemon/lib/audit_log.h"
#include "daemon/lib/auth.h"
#include "tests/testing/alert_sink_fixture.h"
#include "tests/testing/http_client.h"
#include "tests/testing/kafka_fixture.h"
#include "tests/testing/temp_dir.h"

namespace vigil::daemon {
namespace {

using nlohmann::json;

constexpr char kRules[] = R"(
rules:
  - id: privacy.id
    category: privacy_leak
    severity: high
    owner: legal
    when: {any: [身份证]}
)";

// role name -> token; "" is no token, "unknown" a token nobody configured.
const std::map<std::string, std::string> kTokens = {
    {"viewer", "viewer-token-0123456789abcdef"},
    {"responder", "responder-token-0123456789abcdef"},
    {"rule-admin", "rule-admin-token-0123456789abcdef"},
    {"ingest", "ingest-token-0123456789abcdef"},
    {"admin", "admin-token-0123456789abcdef"},
};
const std::string kUnknownToken = "unknown-token-0123456789abcdef";

const std::set<std::string> kReaders = {"viewer", "responder", "rule-admin", "admin"};
const std::set<std::string> kResponders = {"responder", "admin"};
const std::set<std::string> kRuleAdmins = {"rule-admin", "admin"};
const std::set<std::string> kIngesters = {"ingest", "admin"};
const std::set<std::string> kAdmins = {"admin"};
const std::set<std::string> kEveryone = {"",           "unknown", "viewer", "responder",
                                         "rule-admin", "ingest",  "admin"};

// The access policy, one row per registered route (method and path as registered) with
// a request that reaches it and the roles that may make it. A route added without a row
// here fails RoleMatrix.
struct Row {
  std::string method, route, target, body;
  std::set<std::string> allowed;  // roles; "" (no token) only for open endpoints
};
const std::vector<Row>& Policy() {
  static const std::vector<Row> rows = {
      {"GET", "/healthz", "/healthz", "", kEveryone},
      {"GET", "/readyz", "/readyz", "", kEveryone},
      {"GET", "/metrics", "/metrics", "", kEveryone},
      {"GET", "/api/v1/status", "/api/v1/status", "", kReaders},
      {"GET", "/api/v1/rules", "/api/v1/rules", "", kReaders},
      {"POST", "/api/v1/rules/test", "/api/v1/rules/test", R"({"text": "身份证"})", kRuleAdmins},
      {"POST", "/api/v1/rules/reload", "/api/v1/rules/reload", "", kRuleAdmins},
      {"POST", "/api/v1/posts", "/api/v1/posts", R"({"id": "p", "body": "x"})", kIngesters},
      {"GET", "/api/v1/audit", "/api/v1/audit?limit=5", "", kAdmins},
      {"POST", "/api/v1/ingest/discourse", "/api/v1/ingest/discourse", "{}", kIngesters},
      {"GET", "/api/v1/incidents", "/api/v1/incidents", "", kReaders},
      {"GET", "/api/v1/incidents/", "/api/v1/incidents/1", "", kReaders},
      {"POST", "/api/v1/incidents/", "/api/v1/incidents/1/ack", "", kResponders},
      {"POST", "/api/v1/incidents/", "/api/v1/incidents/1/resolve", "", kResponders},
      {"GET", "/api/v1/silences", "/api/v1/silences", "", kReaders},
      {"POST", "/api/v1/silences", "/api/v1/silences",
       R"({"matchers": {"rule": "x.*"}, "duration": "1h", "comment": "c"})", kResponders},
      {"DELETE", "/api/v1/silences/", "/api/v1/silences/1", "", kResponders},
  };
  return rows;
}

class ApiAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "rules.yaml") << kRules;
    config_.rules.paths = {(dir_ / "rules.yaml").string()};
    holder_ = std::make_unique<RuleHolder>(config_.rules.paths, "");
    ASSERT_TRUE(holder_->Reload().ok);
    auto store = alerts::OpenSqliteStore((dir_ / "vigil.db").string());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    sink_ = std::make_unique<AlertSink>(*store_, clock_);
    ASSERT_TRUE(sink_->Start().ok());
    sender_ = alerts::MakeChannelSender(*alerts::EmptyPagingConfig());
    pager_ = std::make_unique<alerts::Pager>(
        *store_, clock_, alerts::EmptyPagingConfig(), *sender_,
        alerts::PagerOptions{"http://vigil.test", "link-secret", 3});
    std::vector<TokenEntry> entries;
    for (const auto& [role, token] : kTokens)
      entries.push_back({role + "-bot", role, token, "", "t:1"});
    auto tokens = BuildTokens(entries);
    ASSERT_TRUE(tokens.ok()) << tokens.error().message;
    access_ = std::make_unique<AccessControl>(
        *tokens, std::vector<std::string>{"/healthz", "/readyz", "/metrics"});
    auto audit = AuditLog::Open((dir_ / "audit.log").string());
    ASSERT_TRUE(audit.ok());
    audit_ = std::move(*audit);

    context_.config = &config_;
    context_.rules = holder_.get();
    context_.reload = [this] { return holder_->Reload(); };
    context_.alerts = sink_.get();
    context_.store = store_.get();
    context_.pager = pager_.get();
    context_.access = access_.get();
    context_.audit = audit_.get();
    server_ = std::make_unique<HttpServer>(HttpServerOptions{.port = 0});
    RegisterApi(*server_, context_);
    RegisterMetricsRoute(*server_, metrics_);
    ASSERT_TRUE(server_->Start().ok());
    testing::ApplyPrivacyHit(*sink_, clock_);
  }
  void TearDown() override {
    server_.reset();
    sink_->Stop();
  }

  // `as`: a role of kTokens, "unknown", or "" for no token.
  testing::HttpReply Call(const std::string& as, const std::string& method,
                          const std::string& target, const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (as == "unknown") headers["Authorization"] = "Bearer " + kUnknownToken;
    if (kTokens.contains(as)) headers["Authorization"] = "Bearer " + kTokens.at(as);
    return testing::HttpCall(server_->port(), method, target, body, headers);
  }
  std::vector<json> AuditEntries() {
    std::ifstream in(dir_ / "audit.log");
    std::vector<json> entries;
    for (std::string line; std::getline(in, line);) entries.push_back(json::parse(line));
    return entries;
  }
  std::string AuditText() {
    std::stringstream text;
    text << std::ifstream(dir_ / "audit.log").rdbuf();
    return text.str();
  }

  testing::TempDir dir_;
  Config config_;
  FakeClock clock_;
  std::unique_ptr<RuleHolder> holder_;
  std::unique_ptr<alerts::StateStore> store_;
  std::unique_ptr<AlertSink> sink_;
  std::unique_ptr<alerts::Sender> sender_;
  std::unique_ptr<alerts::Pager> pager_;
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<AuditLog> audit_;
  ApiContext context_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ApiAccessTest, RoleMatrix) {
  // Every registered route has a row, and every row a registered route.
  std::set<std::pair<std::string, std::string>> registered, covered;
  for (const HttpServer::RouteInfo& route : server_->routes())
    registered.insert({route.method, route.path});
  for (const Row& row : Policy()) covered.insert({row.method, row.route});
  for (const auto& route : registered) {
    EXPECT_TRUE(covered.contains(route))
        << route.first << " " << route.second << " has no row in Policy()";
  }
  for (const auto& row : covered) {
    EXPECT_TRUE(registered.contains(row)) << row.first << " " << row.second << " is not registered";
  }

  for (const Row& row : Policy()) {
    for (const std::string& as : kEveryone) {
      const testing::HttpReply reply = Call(as, row.method, row.target, row.body);
      const std::string what =
          row.method + " " + row.target + " as " + (as.empty() ? "nobody" : as);
      ASSERT_NE(reply.status, 0) << what;
      if (row.allowed.contains(as)) {
        EXPECT_NE(reply.status, 401) << what << ": " << reply.body;
        EXPECT_NE(reply.status, 403) << what << ": " << reply.body;
      } else if (as.empty() || as == "unknown") {
        EXPECT_EQ(reply.status, 401) << what << ": " << reply.body;
        EXPECT_EQ(reply.headers.count("WWW-Authenticate"), 1u) << what;
      } else {
        EXPECT_EQ(reply.status, 403) << what << ": " << reply.body;
        EXPECT_NE(reply.body.find("needs"), std::string::npos) << what << ": " << reply.body;
      }
    }
  }
}

TEST_F(ApiAccessTest, SignedAcknowledgeLinksNeedNoToken) {
  const std::string path =
      pager_->AckUrl(1, "sunmin").substr(std::string("http://vigil.test").size());
  EXPECT_EQ(Call("", "GET", path).status, 200);
  // A made-up signature is refused by the link check, not let through.
  EXPECT_EQ(Call("", "POST", "/api/v1/incidents/1/ack?by=mallory&sig=00").status, 403);
  // The signature covers acknowledging only: it does not open resolve.
  EXPECT_EQ(Call("", "POST", "/api/v1/incidents/1/resolve?by=sunmin&sig=00").status, 401);
  const auto acked = Call("", "POST", path);
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_EQ(json::parse(acked.body)["acknowledged"]["by"], "sunmin (page link)");
  const json last = AuditEntries().back();
  EXPECT_EQ(last["action"], "incident.ack");
  EXPECT_EQ(last["actor"], "sunmin (page link)");
  EXPECT_EQ(last["role"], "signed");
}

TEST_F(ApiAccessTest, ClosingMetricsAndHealthNeedsAViewer) {
  access_ = std::make_unique<AccessControl>(
      *BuildTokens({{"v", "viewer", kTokens.at("viewer"), "", "t:1"}}), std::vector<std::string>{});
  context_.access = access_.get();
  EXPECT_EQ(Call("", "GET", "/healthz").status, 401);
  EXPECT_EQ(Call("viewer", "GET", "/healthz").status, 200);
}

TEST_F(ApiAccessTest, TheTokenNameIsTheActorAndEveryActionIsAudited) {
  // The log lines of this test, whatever ends it (the sink must not outlive `logs`).
  std::ostringstream logs;
  struct CaptureLogs {
    std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
    explicit CaptureLogs(std::ostream& out) {
      spdlog::set_default_logger(std::make_shared<spdlog::logger>(
          "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out)));
    }
    ~CaptureLogs() { spdlog::set_default_logger(previous); }
  };
  auto capture = std::make_unique<CaptureLogs>(logs);

  // The header is ignored once tokens exist.
  auto acked = testing::HttpCall(
      server_->port(), "POST", "/api/v1/incidents/1/ack", "",
      {{"Authorization", "Bearer " + kTokens.at("responder")}, {"X-Vigil-Actor", "mallory"}});
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_EQ(json::parse(acked.body)["acknowledged"]["by"], "responder-bot");
  EXPECT_EQ(Call("viewer", "POST", "/api/v1/incidents/1/resolve").status, 403);
  auto added = Call("responder", "POST", "/api/v1/silences",
                    R"({"matchers": {"rule": "x.*"}, "duration": "1h", "comment": "c",
                        "author": "mallory"})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(json::parse(added.body)["author"], "responder-bot");
  const int64_t silence = json::parse(added.body)["id"];
  EXPECT_EQ(Call("admin", "DELETE", "/api/v1/silences/" + std::to_string(silence)).status, 200);
  EXPECT_EQ(Call("rule-admin", "POST", "/api/v1/rules/reload").status, 200);
  EXPECT_EQ(Call("unknown", "POST", "/api/v1/rules/reload").status, 401);
  // Not audited: reads, rule tests, ingest.
  EXPECT_EQ(Call("viewer", "GET", "/api/v1/incidents/1").status, 200);
  EXPECT_EQ(Call("rule-admin", "POST", "/api/v1/rules/test", R"({"text": "x"})").status, 200);

  const std::vector<json> entries = AuditEntries();
  ASSERT_EQ(entries.size(), 6u) << AuditText();
  const auto expect = [&](size_t i, std::string actor, std::string role, std::string action,
                          std::string target, int status) {
    SCOPED_TRACE(entries[i].dump());
    EXPECT_EQ(entries[i]["actor"], actor);
    EXPECT_EQ(entries[i]["role"], role);
    EXPECT_EQ(entries[i]["action"], action);
    EXPECT_EQ(entries[i]["target"], target);
    EXPECT_EQ(entries[i]["status"], status);
    EXPECT_EQ(entries[i]["remote"], "127.0.0.1");
    EXPECT_TRUE(entries[i]["ts"].get<std::string>().ends_with("Z"));
  };
  expect(0, "responder-bot", "responder", "incident.ack", "incident/1", 200);
  expect(1, "viewer-bot", "viewer", "incident.resolve", "incident/1", 403);
  EXPECT_NE(entries[1]["error"].get<std::string>().find("needs responder or admin"),
            std::string::npos);
  expect(2, "responder-bot", "responder", "silence.add", "silence/" + std::to_string(silence), 201);
  expect(3, "admin-bot", "admin", "silence.expire", "silence/" + std::to_string(silence), 200);
  expect(4, "rule-admin-bot", "rule-admin", "rules.reload", holder_->current()->hash(), 200);
  expect(5, "", "", "rules.reload", "", 401);

  // The admin reads it back through the API.
  const auto tail = Call("admin", "GET", "/api/v1/audit?limit=2");
  ASSERT_EQ(tail.status, 200);
  ASSERT_EQ(json::parse(tail.body)["entries"].size(), 2u);
  EXPECT_EQ(json::parse(tail.body)["entries"][1]["status"], 401);

  capture.reset();
  const std::string audit_text = AuditText();
  for (const auto& [role, token] : kTokens) {
    EXPECT_EQ(audit_text.find(token), std::string::npos) << role << "'s token in the audit log";
    EXPECT_EQ(logs.str().find(token), std::string::npos) << role << "'s token in the logs";
  }
  EXPECT_EQ(logs.str().find(kUnknownToken), std::string::npos);
  EXPECT_NE(logs.str().find("responder-bot"), std::string::npos) << logs.str();
}

TEST_F(ApiAccessTest, StatusShowsNoToken) {
  const auto status = Call("viewer", "GET", "/api/v1/status");
  ASSERT_EQ(status.status, 200);
  for (const auto& [role, token] : kTokens) EXPECT_EQ(status.body.find(token), std::string::npos);
}

}  // namespace
}  // namespace vigil::daemon
