// One accepted connection of the HTTP server: plain TCP, or TLS over TCP when the
// listener has a TLS context. Meets Beast's AsyncReadStream and AsyncWriteStream and
// offers tcp_stream's timeout and close calls, so a session reads and writes the same way
// over both (http_server.cc).
//
// Thread safety: like the streams it wraps; one session's strand uses it at a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace vigil::daemon {

class ServerStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;

  // `tls` null: plain TCP. The stream keeps the context alive (it may be replaced on the
  // listener meanwhile, e.g. by a certificate reload).
  ServerStream(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls)
      : tls_context_(std::move(tls)) {
    if (tls_context_) {
      tls_.emplace(std::move(socket), *tls_context_);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  bool tls() const { return tls_.has_value(); }
  boost::beast::tcp_stream& tcp() { return tls_ ? tls_->next_layer() : *plain_; }

  executor_type get_executor() { return tcp().get_executor(); }
  void expires_after(std::chrono::steady_clock::duration timeout) { tcp().expires_after(timeout); }
  boost::asio::ip::tcp::socket& socket() { return tcp().socket(); }
  void close() { tcp().close(); }

  // REQUIRES: tls(). Both take a handler called with (error_code).
  template <typename Handler>
  void async_handshake(Handler&& handler) {
    tls_->async_handshake(boost::asio::ssl::stream_base::server, std::forward<Handler>(handler));
  }
  // The handshake when its first bytes were already read (by beast::async_detect_ssl):
  // handler(error_code, bytes of `buffers` used).
  template <typename ConstBuffers, typename Handler>
  void async_handshake(const ConstBuffers& buffers, Handler&& handler) {
    tls_->async_handshake(boost::asio::ssl::stream_base::server, buffers,
                          std::forward<Handler>(handler));
  }
  template <typename Handler>
  void async_shutdown(Handler&& handler) {
    tls_->async_shutdown(std::forward<Handler>(handler));
  }

  template <typename MutableBuffers, typename Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }
  template <typename ConstBuffers, typename Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

 private:
  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // outlives tls_
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
};

}  // namespace vigil::daemon
