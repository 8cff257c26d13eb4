// The audit log's line format, which requests are audited under which names, the file's
// mode and reading its tail.
#include "daemon/lib/audit_log.h"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/testing/temp_dir.h"

namespace vigil::daemon {
namespace {

HttpRequest Request(std::string method, std::string path, std::string query = "") {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query = std::move(query);
  request.remote = "10.0.0.7";
  return request;
}

TEST(AuditLogTest, ALineHasTheFieldsInOrderAndUtcTime) {
  const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764112204512));
  EXPECT_EQ(
      AuditLine({"alice", "responder", "10.0.0.7", "incident.ack", "incident/12", 200, ""}, at),
      R"({"ts":"2025-11-25T23:10:04.512Z","actor":"alice","role":"responder",)"
      R"("remote":"10.0.0.7","action":"incident.ack","target":"incident/12","status":200})");
  EXPECT_NE(AuditLine({"bob", "viewer", "", "silence.add", "", 403, "needs responder"}, at)
                .find(R"("status":403,"error":"needs responder"})"),
            std::string::npos);
}

TEST(AuditLogTest, MutatingCallsHaveNamesAndTargets) {
  struct Case {
    std::string method, path, action, target;
  };
  for (const Case& c : std::vector<Case>{
           {"POST", "/api/v1/incidents/12/ack", "incident.ack", "incident/12"},
           {"POST", "/api/v1/incidents/12/resolve", "incident.resolve", "incident/12"},
           {"POST", "/api/v1/silences", "silence.add", ""},
           {"DELETE", "/api/v1/silences/3", "silence.expire", "silence/3"},
           {"POST", "/api/v1/rules/reload", "rules.reload", ""},
           {"PUT", "/api/v1/something", "http.put", "/api/v1/something"},
       }) {
    const auto action = AuditedActionOf(Request(c.method, c.path));
    ASSERT_TRUE(action) << c.method << " " << c.path;
    EXPECT_EQ(action->action, c.action);
    EXPECT_EQ(action->target, c.target);
  }
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/api/v1/incidents/12"},
                                                        {"GET", "/api/v1/incidents/12/ack"},
                                                        {"POST", "/api/v1/posts"},
                                                        {"POST", "/api/v1/ingest/discourse"},
                                                        {"POST", "/api/v1/rules/test"}}) {
    EXPECT_FALSE(AuditedActionOf(Request(method, path))) << method << " " << path;
  }
}

TEST(AuditLogTest, TheRecordTakesTheTargetAndTheErrorFromTheAnswer) {
  HttpRequest request = Request("POST", "/api/v1/silences");
  request.caller = "alice";
  request.caller_role = "responder";
  HttpResponse created;
  created.status = 201;
  created.body = R"({"id": 7, "author": "alice"})";
  AuditRecord record = AuditRecordOf(request, *AuditedActionOf(request), created);
  EXPECT_EQ(record.target, "silence/7");
  EXPECT_EQ(record.actor, "alice");
  EXPECT_EQ(record.remote, "10.0.0.7");
  EXPECT_TRUE(record.error.empty());
  record = AuditRecordOf(request, *AuditedActionOf(request),
                         HttpResponse::JsonError(400, "duration: expected e.g. 2h"));
  EXPECT_EQ(record.status, 400);
  EXPECT_EQ(record.error, "duration: expected e.g. 2h");

  // A signed acknowledge link acts as the person it was sent to.
  HttpRequest link = Request("POST", "/api/v1/incidents/3/ack", "by=sunmin&sig=ab");
  link.caller_role = "signed";
  HttpResponse ok;
  ok.body = "{}";
  record = AuditRecordOf(link, *AuditedActionOf(link), ok);
  EXPECT_EQ(record.actor, "sunmin (page link)");
  EXPECT_EQ(record.target, "incident/3");
}

TEST(AuditLogTest, TheFileIsAppendedTo0640AndItsTailRead) {
  testing::TempDir dir;
  const std::string path = (dir / "audit.log").string();
  {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.error().message;
    for (int i = 0; i < 5; ++i) (*log)->Record({.actor = "a", .action = "x", .status = i});
  }
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  auto log = AuditLog::Open(path);  // reopened: appended to, not truncated
  ASSERT_TRUE(log.ok());
  (*log)->Record({.actor = "b", .action = "y", .status = 5});
  auto tail = (*log)->Tail(3);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 3u);
  EXPECT_EQ(nlohmann::json::parse((*tail)[0])["status"], 3);
  EXPECT_EQ(nlohmann::json::parse((*tail)[2])["actor"], "b");
  EXPECT_EQ((*log)->Tail(100)->size(), 6u);

  // A file left world-readable (by hand, or an older version) is restricted on open.
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  ASSERT_TRUE(AuditLog::Open(path).ok());
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);

  auto unwritable = AuditLog::Open((dir / "no-such-dir" / "audit.log").string());
  ASSERT_FALSE(unwritable.ok());
  EXPECT_NE(unwritable.error().message.find("audit.file"), std::string::npos);
}

}  // namespace
}  // namespace vigil::daemon
