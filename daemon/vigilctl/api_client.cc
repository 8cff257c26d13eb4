#include "daemon/vigilctl/api_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <type_traits>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <nlohmann/json.hpp>

namespace vigil::ctl {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr size_t kMaxAnswerBytes = size_t{64} << 20;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

// What the exchange was doing: it names what failed when an error or the deadline ends it.
enum class Stage { kResolving, kConnecting, kHandshaking, kExchanging, kDone };

struct Exchange {
  net::io_context io;
  tcp::resolver resolver{io};
  beast::tcp_stream stream{io};
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;  // https: used instead of `stream`
  std::string host, port;
  http::request<http::string_body> request;
  Stage stage = Stage::kResolving;
  beast::error_code error;
  std::string verify_error;  // why the server's certificate was refused, when it was
  ApiResponse response;

  beast::tcp_stream& transport() { return tls ? tls->next_layer() : stream; }
};

// REQUIRES: `x` outlives the coroutine (it lives until io.run() returns); `stream` is
// x.stream or *x.tls.
template <typename Stream>
net::awaitable<void> Run(Exchange& x, Stream& stream) {
  auto [resolve_error, endpoints] = co_await x.resolver.async_resolve(x.host, x.port, kNoThrow);
  if (resolve_error) {
    x.error = resolve_error;
    co_return;
  }
  x.stage = Stage::kConnecting;
  auto [connect_error, endpoint] = co_await x.transport().async_connect(endpoints, kNoThrow);
  if (connect_error) {
    x.error = connect_error;
    co_return;
  }
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    x.stage = Stage::kHandshaking;
    auto [handshake_error] = co_await stream.async_handshake(ssl::stream_base::client, kNoThrow);
    if (handshake_error) {
      x.error = handshake_error;
      if (const long verified = SSL_get_verify_result(stream.native_handle());
          verified != X509_V_OK) {
        x.verify_error = X509_verify_cert_error_string(verified);
      }
      co_return;
    }
  }
  x.stage = Stage::kExchanging;
  auto [write_error, written] = co_await http::async_write(stream, x.request, kNoThrow);
  if (write_error) {
    x.error = write_error;
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxAnswerBytes);
  auto [read_error, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  if (read_error) {
    x.error = read_error;
    co_return;
  }
  http::response<http::string_body> message = parser.release();
  x.response.status = static_cast<int>(message.result_int());
  x.response.reason = std::string(message.reason());
  x.response.body = std::move(message.body());
  x.stage = Stage::kDone;
  // No TLS close_notify exchange: the answer is complete (Content-Length), and waiting for
  // the server's reply would only add a round trip.
  beast::error_code ignored;
  x.transport().socket().shutdown(tcp::socket::shutdown_both, ignored);
}

// The client certificate for mutual TLS; every problem names the option and the file.
Status UseClientCertificate(ssl::context& context, const TlsTrust& trust) {
  if (trust.cert_file.empty() && trust.key_file.empty()) return Status::Ok();
  if (trust.cert_file.empty() || trust.key_file.empty())
    return Error{"--cert-file and --key-file go together (a client certificate and its key)"};
  for (const auto& [option, path] :
       {std::pair{"--cert-file", &trust.cert_file}, std::pair{"--key-file", &trust.key_file}}) {
    std::FILE* file = std::fopen(path->c_str(), "r");
    if (file == nullptr)
      return Error{fmt::format("{} {}: cannot read: {}", option, *path, std::strerror(errno))};
    std::fclose(file);
  }
  // The key first: loading a certificate then checks it against the key and drops a key
  // that does not match, which SSL_CTX_check_private_key below reports in our words.
  beast::error_code ec;
  context.use_private_key_file(trust.key_file, ssl::context::pem, ec);
  if (ec)
    return Error{
        fmt::format("--key-file {}: not a PEM private key ({})", trust.key_file, ec.message())};
  context.use_certificate_chain_file(trust.cert_file, ec);
  if (ec)
    return Error{
        fmt::format("--cert-file {}: not a PEM certificate ({})", trust.cert_file, ec.message())};
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    return Error{fmt::format("--key-file {}: does not match the certificate in --cert-file {}",
                             trust.key_file, trust.cert_file)};
  }
  return Status::Ok();
}

// TLS 1.2 or later; the peer verified against `trust` unless it is insecure.
Result<std::shared_ptr<ssl::context>> ClientTlsContext(const TlsTrust& trust) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  if (Status own = UseClientCertificate(*context, trust); !own.ok()) return own.error();
  if (trust.insecure) {
    context->set_verify_mode(ssl::verify_none);
    return context;
  }
  context->set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  if (trust.ca_file.empty()) {
    context->set_default_verify_paths(ec);
    if (ec) return Error{"cannot load the system's CA certificates: " + ec.message()};
    return context;
  }
  std::FILE* file = std::fopen(trust.ca_file.c_str(), "r");
  if (file == nullptr) {
    return Error{fmt::format("CA file {}: cannot read: {}", trust.ca_file, std::strerror(errno))};
  }
  std::fclose(file);
  context->load_verify_file(trust.ca_file, ec);
  if (ec) {
    return Error{fmt::format("CA file {}: not PEM certificates ({})", trust.ca_file, ec.message())};
  }
  return context;
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
  if (scheme != "http" && scheme != "https") return bad("expected an http:// or https:// URL");
  if (url->encoded_host().empty()) return bad("no host");
  if (url->has_userinfo()) return bad("user names and passwords in the URL are not supported");
  if (url->has_query() || url->has_fragment()) return bad("expected no query or fragment");
  const std::string port = url->has_port() && !url->port().empty() ? std::string(url->port())
                           : scheme == "https"                     ? "443"
                                                                   : "80";
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
  client.tls_ = scheme == "https";
  if (client.tls_) {
    if (Status trusted = client.SetTlsTrust({}); !trusted.ok()) return trusted.error();
  }
  return client;
}

Status ApiClient::SetTlsTrust(const TlsTrust& trust) {
  if (!tls_) return Status::Ok();
  auto context = ClientTlsContext(trust);
  if (!context.ok()) return context.error();
  tls_context_ = std::move(*context);
  insecure_ = trust.insecure;
  return Status::Ok();
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

  const auto rethrow = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  if (tls_) {
    x.tls.emplace(x.io, *tls_context_);
    // The certificate must name the host (an IP address: in its IP SANs); OpenSSL then
    // reports a mismatch like any other verification failure.
    SSL* tls = x.tls->native_handle();
    boost::system::error_code not_an_address;
    net::ip::make_address(host_, not_an_address);
    if (not_an_address) {
      SSL_set_tlsext_host_name(tls, host_.c_str());  // SNI
      if (!insecure_) SSL_set1_host(tls, host_.c_str());
    } else if (!insecure_) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls), host_.c_str());
    }
    net::co_spawn(x.io, Run(x, *x.tls), rethrow);
  } else {
    net::co_spawn(x.io, Run(x, x.stream), rethrow);
  }
  x.io.run_for(timeout_);
  const bool timed_out = x.stage != Stage::kDone && !x.error;
  if (timed_out) {  // cancel what is pending and let the coroutine finish
    x.resolver.cancel();
    beast::error_code ignored;
    x.transport().socket().close(ignored);
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
    case Stage::kHandshaking:
      if (!x.verify_error.empty()) {
        return Error{
            fmt::format("the certificate of {} is not trusted: {}; trust its CA with --ca-file (or "
                        "VIGIL_CA_FILE)",
                        authority_, x.verify_error)};
      }
      return Error{fmt::format("TLS handshake with {} failed: {} (is it a plain http:// server?)",
                               authority_, why)};
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
        return Error{fmt::format("{} closed the connection without an answer{}", authority_,
                                 tls_ ? "" : " (is it an https:// server?)")};
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
