#include "daemon/lib/http_server.h"

#include <algorithm>
#include <mutex>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <nlohmann/json.hpp>

#include "daemon/lib/server_stream.h"

namespace vigil::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string HttpRequest::param(std::string_view name, std::string fallback) const {
  const std::string target = "/?" + query;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return fallback;
  for (const auto& p : url->params()) {  // params() decodes percent-escapes and '+'
    if (p.key == name) return p.value;
  }
  return fallback;
}

HttpResponse HttpResponse::JsonError(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace);
  return response;
}

struct HttpServer::Impl {
  net::io_context io;
  tcp::acceptor acceptor{io};

  // Null for plain HTTP. Replaced whole by ReloadTls(); each connection keeps its own.
  std::shared_ptr<net::ssl::context> TlsContext() {
    std::lock_guard lock(tls_mutex);
    return tls_context;
  }
  std::mutex tls_mutex;
  std::shared_ptr<net::ssl::context> tls_context;  // GUARDED_BY(tls_mutex)
};

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer& server)
      : server_(server), stream_(std::move(socket), server.impl_->TlsContext()) {
    ++server_.connections_;
    boost::system::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }
  ~Session() { --server_.connections_; }

  void Start(bool over_capacity) {
    if (!stream_.tls()) {
      Serve(over_capacity);
      return;
    }
    // The handshake counts against the request timeout like a slow request would. Its
    // first bytes tell TLS from plain HTTP, which is answered in plain HTTP (below).
    stream_.expires_after(server_.options_.request_timeout);
    beast::async_detect_ssl(
        stream_.tcp(), buffer_,
        [self = shared_from_this(), over_capacity](beast::error_code ec, bool is_tls) {
          if (ec) {
            ++self->server_.tls_handshake_failures_;
            spdlog::info("http: {}: TLS handshake failed: {}", self->remote_, ec.message());
            self->Close();
            return;
          }
          if (!is_tls) {
            self->RefusePlainHttp();
            return;
          }
          // (The default argument: Boost 1.81's ssl_stream checks a buffered handshake's
          // handler against void(error_code), then calls it with (error_code, size_t).)
          self->stream_.async_handshake(
              self->buffer_.data(), [self, over_capacity](beast::error_code ec, size_t used = 0) {
                self->buffer_.consume(used);
                if (ec) {
                  ++self->server_.tls_handshake_failures_;
                  spdlog::info("http: {}: TLS handshake failed: {}", self->remote_, ec.message());
                  self->Close();
                  return;
                }
                self->Serve(over_capacity);
              });
        });
  }

 private:
  void Serve(bool over_capacity) {
    if (over_capacity) {
      Respond(HttpResponse::JsonError(503, "too many connections"), /*keep_alive=*/false, 11);
      return;
    }
    Read();
  }

  // Plain HTTP on the HTTPS port: a 400 in plain HTTP that says so (curl and browsers show
  // it), rather than a connection closed without a word; counted as a failed handshake.
  void RefusePlainHttp() {
    ++server_.tls_handshake_failures_;
    server_.CountResponse("none", 400);
    spdlog::info("http: {}: TLS handshake failed: http request (plain HTTP on the HTTPS port)",
                 remote_);
    const std::string body = "This port serves HTTPS only: use https://\n";
    auto reply = std::make_shared<std::string>(
        "HTTP/1.1 400 Bad Request\r\nServer: vigild\r\nContent-Type: text/plain\r\n"
        "Connection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    net::async_write(
        stream_.tcp(), net::buffer(*reply),
        [self = shared_from_this(), reply](beast::error_code, size_t) { self->Close(); });
  }

  void Read() {
    route_ = "none";
    parser_.emplace();
    parser_->body_limit(server_.options_.max_body_bytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(server_.options_.request_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == net::ssl::error::stream_truncated) {  // a TLS peer left without close_notify
      Close();
      return;
    }
    if (ec == http::error::end_of_stream && stream_.tls()) {  // its close_notify: answer it
      Close(/*graceful=*/true);
      return;
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted) {
      Close();
      return;
    }
    const int version = parser_->get().version() ? parser_->get().version() : 11;
    if (ec == http::error::body_limit) {
      spdlog::info("http: {}: request body over {} bytes", remote_,
                   server_.options_.max_body_bytes);
      Respond(HttpResponse::JsonError(413, "request body too large (limit " +
                                               std::to_string(server_.options_.max_body_bytes) +
                                               " bytes)"),
              false, version);
      return;
    }
    if (ec) {
      spdlog::info("http: {}: malformed request: {}", remote_, ec.message());
      Respond(HttpResponse::JsonError(400, "malformed HTTP request: " + ec.message()), false,
              version);
      return;
    }
    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    const std::string_view target = message.target();
    const size_t q = target.find('?');
    request.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(field.value());
    }
    request.body = std::move(message.body());
    request.remote = remote_;
    route_ = server_.RouteLabel(request);
    ++server_.requests_;
    HttpResponse response;
    try {
      response = server_.Dispatch(request);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {}: handler failed: {}", request.method, request.path, e.what());
      response = HttpResponse::JsonError(500, "internal error");
    }
    Respond(std::move(response), message.keep_alive(), version);
  }

  void Respond(HttpResponse response, bool keep_alive, int version) {
    server_.CountResponse(route_, response.status);
    response_ = {};
    response_.version(version);
    response_.result(static_cast<http::status>(response.status));
    response_.set(http::field::server, "vigild");
    response_.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) response_.set(name, value);
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(server_.options_.request_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) {
                          self->Close(/*graceful=*/!ec);
                          return;
                        }
                        self->Read();
                      });
  }

  // `graceful`: the TLS session is in good order, so send close_notify first (OpenSSL
  // forbids it after a failure). A peer that does not answer it is dropped after a second.
  void Close(bool graceful = false) {
    if (graceful && stream_.tls()) {
      stream_.expires_after(std::min<std::chrono::steady_clock::duration>(
          server_.options_.request_timeout, std::chrono::seconds(1)));
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->Close(); });
      return;
    }
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  HttpServer& server_;
  ServerStream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::string remote_;
  std::string route_ = "none";  // the route of the request being answered, for metrics
};

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() {
  Stop();
  // Sessions still held by the io_context die with it and touch our counters: destroy it
  // while every member is still alive.
  accept_loop_.reset();
  impl_.reset();
}

void HttpServer::Route(std::string method, std::string path, RouteAccess access,
                       HttpHandler handler, bool prefix) {
  routes_.push_back(
      {std::move(method), std::move(path), prefix, std::move(access), std::move(handler)});
}

std::string HttpServer::RouteLabel(const HttpRequest& request) const {
  const RouteEntry* best = nullptr;
  for (const RouteEntry& route : routes_) {
    const bool matches =
        route.prefix ? request.path.starts_with(route.path) : request.path == route.path;
    if (matches && (best == nullptr || route.path.size() > best->path.size())) best = &route;
  }
  return best == nullptr ? "unmatched" : best->path;
}

void HttpServer::CountResponse(const std::string& route, int status) {
  std::lock_guard lock(counts_mutex_);
  ++response_counts_[{route, status}];
}

std::map<std::pair<std::string, int>, uint64_t> HttpServer::ResponseCounts() const {
  std::lock_guard lock(counts_mutex_);
  return response_counts_;
}

std::vector<HttpServer::RouteInfo> HttpServer::routes() const {
  std::vector<RouteInfo> out;
  for (const RouteEntry& route : routes_)
    out.push_back({route.method, route.path, route.prefix, route.access});
  return out;
}

HttpResponse HttpServer::Dispatch(HttpRequest& request) const {
  const RouteEntry* best = nullptr;
  std::string allowed;
  for (const RouteEntry& route : routes_) {
    const bool matches =
        route.prefix ? request.path.starts_with(route.path) : request.path == route.path;
    if (!matches) continue;
    if (route.method != request.method) {
      allowed += (allowed.empty() ? "" : ", ") + route.method;
      continue;
    }
    if (best == nullptr || route.path.size() > best->path.size()) best = &route;
  }
  if (best != nullptr)
    return guard_ ? guard_(request, best->access, best->handler) : best->handler(request);
  if (!allowed.empty()) {
    HttpResponse response = HttpResponse::JsonError(
        405, "method " + request.method + " not allowed on " + request.path);
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  return HttpResponse::JsonError(404, "no such path: " + request.path);
}

Status HttpServer::Start() {
  if (options_.tls.enabled()) {
    auto context = MakeServerTlsContext(options_.tls);
    if (!context.ok()) return context.error();
    impl_->tls_context = std::move(*context);
  }
  boost::system::error_code ec;
  const auto address = net::ip::make_address(options_.host, ec);
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  if (ec) return Error{"http.listen " + where + ": not an IP address: " + ec.message()};
  const tcp::endpoint endpoint(address, options_.port);
  auto& acceptor = impl_->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec)
    return Error{"http.listen " + where + ": " + ec.message()};
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec)
    return Error{"http.listen " + where + ": cannot bind: " + ec.message()};
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) {
    return Error{"http.listen " + where + ": cannot listen: " + ec.message()};
  }
  bound_port_ = acceptor.local_endpoint().port();
  auto accept = std::make_shared<std::function<void()>>();
  *accept = [this, accept_ref = std::weak_ptr<std::function<void()>>(accept)] {
    impl_->acceptor.async_accept(
        net::make_strand(impl_->io), [this, accept_ref](beast::error_code ec, tcp::socket socket) {
          if (ec == net::error::operation_aborted) return;
          if (!ec) {
            const bool over = connections_ >= options_.max_connections;
            std::make_shared<Session>(std::move(socket), *this)->Start(over);
          }
          if (auto next = accept_ref.lock()) (*next)();
        });
  };
  accept_loop_ = accept;
  (*accept)();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { impl_->io.run(); });
  }
  spdlog::info("http: listening on {}:{}{}", options_.host, bound_port_,
               options_.tls.enabled() ? " (TLS)" : "");
  return Status::Ok();
}

Status HttpServer::ReloadTls() {
  auto context = MakeServerTlsContext(options_.tls);
  if (!context.ok()) return context.error();
  std::lock_guard lock(impl_->tls_mutex);
  impl_->tls_context = std::move(*context);
  return Status::Ok();
}

void HttpServer::Stop() {
  if (threads_.empty()) return;
  net::post(impl_->io, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->io.stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace vigil::daemon
