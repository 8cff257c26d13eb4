// The daemon's one HTTP listener (Boost.Beast): routes exact paths, or path prefixes
// for resources with ids, to handlers. It bounds request size (413), connections (503),
// and read time (408/close); a malformed request gets a 4xx, a throwing handler a 500,
// and neither stops the server. With a certificate (options.tls) it serves HTTPS only,
// with the same limits; a failed handshake (plain HTTP, an untrusted client) is logged and
// closes that connection.
//
// Thread safety: Route() before Start(); handlers run on the server's threads and may
// block briefly (HTTP ingest waits for Kafka acknowledgements).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"
#include "daemon/lib/role.h"
#include "daemon/lib/tls_context.h"

namespace vigil::daemon {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // without the query
  std::string query;                           // after '?', undecoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote;  // peer address
  // Who is calling, set by the guard (auth.h) before the handler runs: a token's name, or
  // a description that says it is unauthenticated. `caller_role`: "viewer", ..., "open".
  std::string caller, caller_role;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  // A query parameter's value (percent-decoded), or `fallback`.
  std::string param(std::string_view name, std::string fallback = {}) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // {"error": message} with the status.
  static HttpResponse JsonError(int status, std::string_view message);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// What a route demands of its caller; every route declares it. The server does not judge
// it: its guard does (SetGuard).
struct RouteAccess {
  Role role;  // the role needed (admin holds every role)
  // Requests this accepts carry their own proof, checked by the handler (a signed
  // acknowledge link, a signed webhook): they need no token. Empty: none do.
  std::function<bool(const HttpRequest&)> self_authenticated = {};
};

// Runs in place of each matched route's handler: answers itself (401, 403) or fills in
// request.caller and calls `handler`.
using HttpGuard = std::function<HttpResponse(HttpRequest& request, const RouteAccess& access,
                                             const HttpHandler& handler)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (tests)
  size_t max_body_bytes = 16 << 20;
  int max_connections = 256;
  std::chrono::milliseconds request_timeout{30000};
  int threads = 2;
  ServerTlsOptions tls;  // enabled(): HTTPS; the handshake shares request_timeout
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();

  // `path` is exact, or a prefix when it ends in '/' and `prefix` is true (e.g.
  // "/api/v1/incidents/"). The longest matching route wins.
  void Route(std::string method, std::string path, RouteAccess access, HttpHandler handler,
             bool prefix = false);
  // Without a guard every route's handler runs as it is (tests of the server alone).
  void SetGuard(HttpGuard guard) { guard_ = std::move(guard); }

  struct RouteInfo {
    std::string method, path;
    bool prefix = false;
    RouteAccess access;
  };
  std::vector<RouteInfo> routes() const;

  // Binds and starts serving. An error names the address and the reason, or every problem
  // with the TLS files (their keys and paths).
  Status Start();
  void Stop();
  // Reads the TLS files again (certificate rotation): new connections use them, open ones
  // keep theirs. On an error the old ones stay. REQUIRES: Start() succeeded with TLS.
  Status ReloadTls();
  bool tls() const { return options_.tls.enabled(); }
  uint64_t tls_handshake_failures() const { return tls_handshake_failures_; }
  uint16_t port() const { return bound_port_; }

  uint64_t requests() const { return requests_; }
  int connections() const { return connections_; }
  // Responses by route (its registered path; "unmatched" when no route matched, "none"
  // when the request could not be read) and status code.
  std::map<std::pair<std::string, int>, uint64_t> ResponseCounts() const;

 private:
  class Session;
  struct Impl;
  HttpResponse Dispatch(HttpRequest& request) const;
  std::string RouteLabel(const HttpRequest& request) const;
  void CountResponse(const std::string& route, int status);

  struct RouteEntry {
    std::string method, path;
    bool prefix = false;
    RouteAccess access;
    HttpHandler handler;
  };
  HttpGuard guard_;
  HttpServerOptions options_;
  std::vector<RouteEntry> routes_;
  std::unique_ptr<Impl> impl_;
  std::vector<std::thread> threads_;
  std::shared_ptr<std::function<void()>> accept_loop_;
  uint16_t bound_port_ = 0;
  std::atomic<uint64_t> tls_handshake_failures_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<int> connections_{0};
  mutable std::mutex counts_mutex_;
  std::map<std::pair<std::string, int>, uint64_t> response_counts_;  // GUARDED_BY(counts_mutex_)
};

}  // namespace vigil::daemon
