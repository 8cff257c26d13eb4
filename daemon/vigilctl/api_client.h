// A small synchronous HTTP/1.1 client for vigild's API, used by vigilctl's incident and
// silence commands. One connection per request (Connection: close); a single deadline
// covers resolving, connecting, the TLS handshake, sending and reading the answer.
// https:// servers are verified (TLS 1.2 or later, the certificate chains to a trusted CA
// and names the host) unless TlsTrust::insecure says otherwise.
// Not thread-safe; each command uses its own client.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace boost::asio::ssl {
class context;
}

namespace vigil::ctl {

struct ApiResponse {
  int status = 0;
  std::string reason;  // the reason phrase, e.g. "Not Found"
  std::string body;
};

// Which servers an https:// client believes.
struct TlsTrust {
  std::string ca_file;    // PEM CA certificates; empty: the system's trusted CAs
  bool insecure = false;  // no verification at all (vigilctl --insecure)
  // This client's certificate and key (PEM), for a server that asks for one
  // (http.tls.client_ca_file, mutual TLS). Both or neither.
  std::string cert_file;
  std::string key_file;
};

class ApiClient {
 public:
  // `server` is "http[s]://host[:port][/prefix]"; a bare "host:port" means http. The error
  // names the URL and what is wrong with it. `actor`, when not empty, is sent as
  // X-Vigil-Actor (who acted, for acknowledgements and the audit trail).
  static Result<ApiClient> Create(std::string_view server, std::string actor,
                                  std::chrono::milliseconds timeout);

  // For https:// servers: whom to trust (the system's CAs until this is called). Reads the
  // CA file now; the error names it. Does nothing for http:// servers.
  Status SetTlsTrust(const TlsTrust& trust);
  bool tls() const { return tls_; }

  // `target` is a path and query under the server's prefix, e.g. "/api/v1/incidents?limit=5".
  // Any HTTP status is a response; an Error means no answer: the host did not resolve, the
  // connection failed, the deadline passed or the answer was not HTTP. Its message names
  // the server, e.g. "cannot connect to 127.0.0.1:8080: Connection refused".
  Result<ApiResponse> Get(std::string_view target) const;
  Result<ApiResponse> Post(std::string_view target, std::string_view json_body) const;
  Result<ApiResponse> Delete(std::string_view target) const;

  const std::string& authority() const { return authority_; }  // "host:port"
  // Sent as Authorization: Bearer when not empty.
  void set_token(std::string token) { token_ = std::move(token); }

 private:
  ApiClient() = default;
  Result<ApiResponse> Send(std::string_view method, std::string_view target,
                           std::string_view body) const;

  std::string host_;       // for the resolver: "127.0.0.1", "::1", "vigil.internal"
  std::string port_;       // "8080"
  std::string authority_;  // for messages and the Host header: "127.0.0.1:8080", "[::1]:80"
  std::string prefix_;     // the server URL's path without a trailing slash, usually ""
  std::string actor_;
  std::string token_;
  std::chrono::milliseconds timeout_{5000};
  bool tls_ = false;  // https://
  bool insecure_ = false;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // set when tls_
};

// A failed answer in one line: the status and the API's {"error": "..."}, e.g.
// "409 incident 42 is not open"; for a body that is not the API's, the reason phrase and
// the start of the body.
std::string DescribeFailure(const ApiResponse& response);

}  // namespace vigil::ctl
