// A blocking HTTP/1.1 client (Boost.Beast) for tests of the daemon's HTTP server.
#pragma once

#include <map>
#include <string>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace vigil::testing {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

inline HttpReply HttpCall(uint16_t port, const std::string& method, const std::string& target,
                          const std::string& body = "",
                          const std::map<std::string, std::string>& headers = {}) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  beast::error_code ec;
  http::read(stream, buffer, response, ec);
  HttpReply reply;
  if (ec) return reply;  // status 0
  reply.status = response.result_int();
  reply.body = response.body();
  for (const auto& field : response)
    reply.headers[std::string(field.name_string())] = std::string(field.value());
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return reply;
}

// Sends raw bytes and returns the raw reply (for malformed requests).
inline std::string HttpRaw(uint16_t port, const std::string& bytes) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  boost::asio::write(socket, boost::asio::buffer(bytes));
  std::string reply;
  boost::system::error_code ec;
  char chunk[4096];
  for (;;) {
    size_t n = socket.read_some(boost::asio::buffer(chunk), ec);
    reply.append(chunk, n);
    if (ec) break;
  }
  return reply;
}

}  // namespace vigil::testing
