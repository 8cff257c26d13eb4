// A blocking HTTPS/1.1 client (Boost.Beast over OpenSSL) for tests of the daemon's TLS
// listener: it verifies the server against `ca_file` and the name 127.0.0.1.
#pragma once

#include <string>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>

namespace vigil::testing {

struct HttpsReply {
  int status = 0;     // 0: no answer, see error
  std::string error;  // what failed: "handshake: certificate verify failed (...)"
  std::string body;
};

struct HttpsClientOptions {
  std::string ca_file;              // trusted CAs (PEM)
  std::string cert_file, key_file;  // a client certificate, for mutual TLS
};

inline HttpsReply HttpsCall(uint16_t port, const HttpsClientOptions& options,
                            const std::string& method, const std::string& target,
                            const std::string& body = "") {
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace ssl = boost::asio::ssl;
  HttpsReply reply;
  ssl::context context(ssl::context::tls_client);
  beast::error_code ec;
  context.load_verify_file(options.ca_file, ec);
  if (ec) return {0, "ca_file: " + ec.message(), ""};
  if (!options.cert_file.empty()) {
    context.use_certificate_chain_file(options.cert_file);
    context.use_private_key_file(options.key_file, ssl::context::pem);
  }
  context.set_verify_mode(ssl::verify_peer);
  boost::asio::io_context io;
  beast::ssl_stream<beast::tcp_stream> stream(io, context);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  beast::get_lowest_layer(stream).connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {0, "connect: " + ec.message(), ""};
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) return {0, "handshake: " + ec.message(), ""};
  http::request<http::string_body> request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, "127.0.0.1");
  request.body() = body;
  request.keep_alive(false);
  request.prepare_payload();
  http::write(stream, request, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  // A server may answer (413) before it has read the whole body; the answer still counts.
  beast::error_code read_error;
  http::read(stream, buffer, response, read_error);
  if (read_error)
    return {0, "read: " + read_error.message() + (ec ? "; write: " + ec.message() : ""), ""};
  reply.status = response.result_int();
  reply.body = response.body();
  stream.shutdown(ec);  // close_notify both ways; the server answers it
  if (ec && ec != ssl::error::stream_truncated && ec != boost::asio::error::eof) {
    reply.error = "shutdown: " + ec.message();
  }
  return reply;
}

}  // namespace vigil::testing
