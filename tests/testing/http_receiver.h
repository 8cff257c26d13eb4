// A real HTTP/1.1 receiver on 127.0.0.1 (port 0) for tests of anything that sends HTTP:
// it records every request and answers from a script (500 then 200, 429 with
// Retry-After, 200 with an error code in the body, no answer at all...), then with a
// default answer. Serves on its own thread (Boost.Beast, C++20 coroutines); thread-safe.
#pragma once

#include <strings.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace vigil::testing {

struct RecordedRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that name (case-insensitive), or "".
  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers)
      if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0)
        return value;
    return "";
  }
};

struct ScriptedResponse {
  int status = 200;
  std::string body = "ok";
  std::vector<std::pair<std::string, std::string>> headers;
  enum class Action { kAnswer, kHang, kClose } action = Action::kAnswer;

  static ScriptedResponse Hang() { return {0, "", {}, Action::kHang}; }    // never answers
  static ScriptedResponse Close() { return {0, "", {}, Action::kClose}; }  // closes, no reply
};

class HttpReceiver {
 public:
  HttpReceiver() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    boost::asio::co_spawn(io_, Listen(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~HttpReceiver() {
    io_.stop();
    thread_.join();
  }
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }

  // Answers the next requests with these, in order; then with the default.
  void Script(std::vector<ScriptedResponse> responses) {
    std::lock_guard lock(mutex_);
    for (auto& response : responses) script_.push_back(std::move(response));
  }
  void SetDefault(ScriptedResponse response) {
    std::lock_guard lock(mutex_);
    default_ = std::move(response);
  }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  ScriptedResponse Record(const Request& request) {
    RecordedRequest recorded;
    recorded.method = std::string(request.method_string());
    recorded.target = std::string(request.target());
    for (const auto& field : request)
      recorded.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    recorded.body = request.body();
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(recorded));
    if (script_.empty()) return default_;
    ScriptedResponse next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  boost::asio::awaitable<void> Listen() {
    for (;;) {
      auto [ec, socket] =
          co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      boost::asio::co_spawn(io_, Serve(std::move(socket)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    using boost::asio::as_tuple;
    using boost::asio::use_awaitable;
    boost::beast::flat_buffer buffer;
    for (;;) {
      Request request;
      auto [read_error, read_bytes] =
          co_await http::async_read(socket, buffer, request, as_tuple(use_awaitable));
      if (read_error) co_return;
      const ScriptedResponse scripted = Record(request);
      if (scripted.action == ScriptedResponse::Action::kClose) co_return;  // closes the socket
      if (scripted.action == ScriptedResponse::Action::kHang) {
        boost::asio::steady_timer forever(socket.get_executor(), std::chrono::hours(24));
        co_await forever.async_wait(as_tuple(use_awaitable));  // ends when the receiver stops
        co_return;
      }
      http::response<http::string_body> response(static_cast<http::status>(scripted.status),
                                                 request.version());
      for (const auto& [name, value] : scripted.headers) response.set(name, value);
      response.keep_alive(request.keep_alive());
      response.body() = scripted.body;
      response.prepare_payload();
      auto [write_error, written] =
          co_await http::async_write(socket, response, as_tuple(use_awaitable));
      if (write_error || !request.keep_alive()) co_return;
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::deque<ScriptedResponse> script_;    // GUARDED_BY(mutex_)
  ScriptedResponse default_;               // GUARDED_BY(mutex_)
  std::vector<RecordedRequest> requests_;  // GUARDED_BY(mutex_)
};

}  // namespace vigil::testing
