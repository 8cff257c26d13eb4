#include "daemon/vigilctl/api_client.h"

#include <charconv>
#include <exception>
#include <optional>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <nlohmann/json.hpp>

namespace vigil::ctl {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr size_t kMaxAnswerBytes = size_t{64} << 20;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

// What the exchange was doing: it names what failed when an error or the deadline ends it.
enum class Stage { kResolving, kConnecting, kExchanging, kDone };

struct Exchange {
  net::io_context io;
  tcp::resolver resolver{io};
  beast::tcp_stream stream{io};
  std::string host, port;
  http::request<http::string_body> request;
  Stage stage = Stage::kResolving;
  beast::error_code error;
  ApiResponse response;
};

// REQUIRES: `x` outlives the coroutine (it lives until io.run() returns).
net::awaitable<void> Run(Exchange& x) {
  auto [resolve_error, endpoints] = co_await x.resolver.async_resolve(x.host, x.port, kNoThrow);
  if (resolve_error) {
    x.error = resolve_error;
    co_return;
  }
  x.stage = Stage::kConnecting;
  auto [connect_error, endpoint] = co_await x.stream.async_connect(endpoints, kNoThrow);
  if (connect_error) {
    x.error = connect_error;
    co_return;
  }
  x.stage = Stage::kExchanging;
  auto [write_error, written] = co_await http::async_write(x.stream, x.request, kNoThrow);
  if (write_error) {
    x.error = write_error;
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxAnswerBytes);
  auto [read_error, read] = co_await http::async_read(x.stream, buffer, parser, kNoThrow);
  if (read_error) {
    x.error = read_error;
    co_return;
  }
  http::response<http::string_body> message = parser.release();
  x.response.status = static_cast<int>(message.result_int());
  x.response.reason = std::string(message.reason());
  x.response.body = std::move(message.body());
  x.stage = Stage::kDone;
  beast::error_code ignored;
  x.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

std::string Seconds(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000)
                               : fmt::format("{:g}s", static_cast<double>(d.count()) / 1000);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One line of at most `max_bytes` (cut on a UTF-8 boundary), controls replaced by spaces.
std::string OneLine(std::string_view text, size_t max_bytes) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f ? ' ' : c;
  }
  const size_t start = out.find_first_not_of(' ');
  out.erase(0, start == std::string::npos ? out.size() : start);
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

Result<ApiClient> ApiClient::Create(std::string_view server, std::string actor,
                                    std::chrono::milliseconds timeout) {
  const auto bad = [&](std::string_view why) {
    return Error{fmt::format("server URL \"{}\": {}", server, why)};
  };
  std::string text(server);
  if (text.find("://") == std::string::npos) text = "http://" + text;
  auto url = boost::urls::parse_uri(text);
  if (!url) return bad("not a URL (" + url.error().message() + ")");
  const std::string scheme = Lower(url->scheme());
  if (scheme == "https") return bad("https:// is not supported yet; use http://");
  if (scheme != "http") return bad("expected an http:// URL");
  if (url->encoded_host().empty()) return bad("no host");
  if (url->has_userinfo()) return bad("user names and passwords in the URL are not supported");
  if (url->has_query() || url->has_fragment()) return bad("expected no query or fragment");
  const std::string port =
      url->has_port() && !url->port().empty() ? std::string(url->port()) : "80";
  int port_number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (ec != std::errc() || end != port.data() + port.size() || port_number < 1 ||
      port_number > 65535) {
    return bad("the port is not a number 1-65535");
  }

  ApiClient client;
  client.host_ = std::string(url->host_address());  // IPv6 without brackets
  client.port_ = port;
  client.authority_ = std::string(url->encoded_host()) + ":" + port;
  client.prefix_ = std::string(url->encoded_path());
  while (!client.prefix_.empty() && client.prefix_.back() == '/') client.prefix_.pop_back();
  client.actor_ = std::move(actor);
  client.timeout_ = timeout;
  return client;
}

Result<ApiResponse> ApiClient::Get(std::string_view target) const {
  return Send("GET", target, "");
}

Result<ApiResponse> ApiClient::Post(std::string_view target, std::string_view json_body) const {
  return Send("POST", target, json_body);
}

Result<ApiResponse> ApiClient::Delete(std::string_view target) const {
  return Send("DELETE", target, "");
}

Result<ApiResponse> ApiClient::Send(std::string_view method, std::string_view target,
                                    std::string_view body) const {
  Exchange x;
  x.host = host_;
  x.port = port_;
  x.request.method(http::string_to_verb(method));
  x.request.target(prefix_ + std::string(target));
  x.request.version(11);
  x.request.set(http::field::host, authority_);
  x.request.set(http::field::user_agent, std::string("vigilctl/") + VIGIL_VERSION);
  x.request.set(http::field::accept, "application/json");
  if (!actor_.empty()) x.request.set("X-Vigil-Actor", actor_);
  if (!token_.empty()) x.request.set(http::field::authorization, "Bearer " + token_);
  if (method == "POST") x.request.set(http::field::content_type, "application/json");
  x.request.body() = std::string(body);
  x.request.keep_alive(false);
  x.request.prepare_payload();

  net::co_spawn(x.io, Run(x), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  x.io.run_for(timeout_);
  const bool timed_out = x.stage != Stage::kDone && !x.error;
  if (timed_out) {  // cancel what is pending and let the coroutine finish
    x.resolver.cancel();
    beast::error_code ignored;
    x.stream.socket().close(ignored);
    x.io.run();
  }
  if (x.stage == Stage::kDone) return std::move(x.response);

  const std::string why =
      timed_out ? "timed out after " + Seconds(timeout_) + " (--timeout)" : x.error.message();
  switch (x.stage) {
    case Stage::kResolving:
      return Error{fmt::format("cannot resolve {}: {}", host_, why)};
    case Stage::kConnecting:
      return Error{fmt::format("cannot connect to {}: {}", authority_, why)};
    default:
      if (timed_out) {
        return Error{
            fmt::format("no answer from {} within {} (--timeout)", authority_, Seconds(timeout_))};
      }
      if (x.error == http::error::body_limit) {
        return Error{
            fmt::format("the answer from {} is over {} MiB", authority_, kMaxAnswerBytes >> 20)};
      }
      if (x.error == http::error::end_of_stream || x.error == net::error::eof) {
        return Error{fmt::format("{} closed the connection without an answer", authority_)};
      }
      return Error{fmt::format("no valid answer from {}: {}", authority_, why)};
  }
}

std::string DescribeFailure(const ApiResponse& response) {
  const auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    return fmt::format("{} {}", response.status, OneLine(body["error"].get<std::string>(), 500));
  }
  std::string out = std::to_string(response.status);
  if (!response.reason.empty()) out += " " + OneLine(response.reason, 80);
  if (const std::string excerpt = OneLine(response.body, 120); !excerpt.empty()) {
    out += ": " + excerpt;
  }
  return out;
}

}  // namespace vigil::ctl
