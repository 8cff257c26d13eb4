#include "daemon/lib/http_server.h"

#include <atomic>
#include <mutex>

#include <gtest/gtest.h>

#include "tests/testing/http_client.h"
#include "tests/testing/kafka_fixture.h"

namespace vigil::daemon {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options);
    server_->Route("GET", "/hello", {Role::kViewer}, [](const HttpRequest& r) {
      HttpResponse response;
      response.body = "{\"name\":\"" + r.param("name", "nobody") + "\"}";
      return response;
    });
    server_->Route("POST", "/echo", {Role::kViewer}, [](const HttpRequest& r) {
      HttpResponse response;
      response.content_type = "text/plain";
      response.body = r.body + "|" + r.header("x-test");
      return response;
    });
    server_->Route(
        "GET", "/items/", {Role::kViewer},
        [](const HttpRequest& r) {
          HttpResponse response;
          response.body = r.path.substr(7);
          return response;
        },
        /*prefix=*/true);
    server_->Route("GET", "/boom", {Role::kViewer},
                   [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    ASSERT_TRUE(server_->Start().ok());
  }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, RoutesExactPathsPrefixesAndQueries) {
  Start();
  auto reply = testing::HttpCall(server_->port(), "GET", "/hello?name=%E5%BC%A0%20san");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "{\"name\":\"张 san\"}");
  EXPECT_EQ(reply.headers["Content-Type"], "application/json");
  reply = testing::HttpCall(server_->port(), "POST", "/echo", "payload", {{"X-Test", "yes"}});
  EXPECT_EQ(reply.body, "payload|yes");
  EXPECT_EQ(testing::HttpCall(server_->port(), "GET", "/items/42").body, "42");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Start();
  EXPECT_EQ(testing::HttpCall(server_->port(), "GET", "/nope").status, 404);
  auto reply = testing::HttpCall(server_->port(), "DELETE", "/hello");
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.headers["Allow"], "GET");
}

TEST(HttpServerGuardTest, TheGuardRunsBeforeTheHandlerWithTheRoutesAccess) {
  HttpServer server(HttpServerOptions{.port = 0});
  std::atomic<int> handled = 0;
  server.Route("POST", "/change", {Role::kResponder}, [&](const HttpRequest& r) {
    ++handled;
    HttpResponse response;
    response.body = r.caller;
    return response;
  });
  std::mutex seen_mutex;  // the guard runs on the server's threads
  std::vector<Role> seen;
  server.SetGuard([&](HttpRequest& request, const RouteAccess& access, const HttpHandler& handler) {
    {
      std::lock_guard lock(seen_mutex);
      seen.push_back(access.role);
    }
    if (request.header("x-ok").empty()) return HttpResponse::JsonError(403, "no");
    request.caller = "alice";
    return handler(request);
  });
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(testing::HttpCall(server.port(), "POST", "/change").status, 403);
  EXPECT_EQ(handled, 0);
  const auto reply = testing::HttpCall(server.port(), "POST", "/change", "", {{"X-Ok", "1"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "alice");
  EXPECT_EQ(handled, 1);
  // Unknown paths and methods are answered before any guard.
  EXPECT_EQ(testing::HttpCall(server.port(), "GET", "/change").status, 405);
  std::lock_guard lock(seen_mutex);
  EXPECT_EQ(seen, (std::vector<Role>{Role::kResponder, Role::kResponder}));
  ASSERT_EQ(server.routes().size(), 1u);
  EXPECT_EQ(server.routes()[0].access.role, Role::kResponder);
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  HttpServerOptions options;
  options.max_body_bytes = 100;
  Start(options);
  EXPECT_EQ(testing::HttpCall(server_->port(), "POST", "/echo", std::string(101, 'x')).status, 413);
  EXPECT_EQ(testing::HttpCall(server_->port(), "POST", "/echo", std::string(100, 'x')).status, 200);
}

TEST_F(HttpServerTest, MalformedRequestIs400AndTheServerGoesOn) {
  Start();
  const std::string reply = testing::HttpRaw(server_->port(), "GARBAGE\r\n\r\n");
  EXPECT_NE(reply.find("400"), std::string::npos) << reply;
  EXPECT_EQ(testing::HttpCall(server_->port(), "GET", "/hello").status, 200);
}

TEST_F(HttpServerTest, AThrowingHandlerIs500AndTheServerGoesOn) {
  Start();
  EXPECT_EQ(testing::HttpCall(server_->port(), "GET", "/boom").status, 500);
  EXPECT_EQ(testing::HttpCall(server_->port(), "GET", "/hello").status, 200);
}

TEST_F(HttpServerTest, ConnectionsOverTheCapGet503) {
  HttpServerOptions options;
  options.max_connections = 1;
  Start(options);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket held(io);  // holds the only slot
  held.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  ASSERT_TRUE(testing::WaitFor([&] { return server_->connections() == 1; }));
  EXPECT_EQ(testing::HttpCall(server_->port(), "GET", "/hello").status, 503);
  held.close();
  ASSERT_TRUE(testing::WaitFor([&] { return server_->connections() == 0; }));
  EXPECT_EQ(testing::HttpCall(server_->port(), "GET", "/hello").status, 200);
}

TEST_F(HttpServerTest, ABusyPortIsAClearError) {
  Start();
  HttpServerOptions options;
  options.port = server_->port();
  HttpServer second(options);
  const Status status = second.Start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("cannot bind"), std::string::npos)
      << status.error().message;
}

}  // namespace
}  // namespace vigil::daemon
