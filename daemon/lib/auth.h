// Access control for the HTTP API (docs/security.md): bearer tokens mapped to roles,
// checked as the server's guard before a route's handler runs, and the rule for running
// without tokens (open on a loopback listener only, unless http.insecure).
//
// Tokens are kept only as SHA-256 digests; a presented token is hashed and compared with
// every configured digest in constant time. No token text reaches a log, an error or a
// response.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "daemon/lib/config.h"
#include "daemon/lib/http_server.h"
#include "daemon/lib/role.h"

namespace vigil::daemon {

class AuditLog;

using TokenDigest = std::array<unsigned char, 32>;

TokenDigest Sha256(std::string_view text);
// Constant time: every byte is compared whatever the first difference.
bool DigestsEqual(const TokenDigest& a, const TokenDigest& b);

constexpr size_t kMinTokenLength = 16;

struct ApiToken {
  std::string name;  // the actor in incidents, silences and the audit log
  Role role = Role::kViewer;
  TokenDigest digest{};
  std::string where;  // "file:line" it was configured at
};

// Checks entries (from http.tokens and the tokens file together) and digests them. The
// error holds every problem, one per line, each "file:line: field: problem": an unknown
// role, a duplicate name or token, a token shorter than kMinTokenLength, a bad sha256.
Result<std::vector<ApiToken>> BuildTokens(const std::vector<TokenEntry>& entries);

// A tokens file: a YAML list of {name, role, token} or {name, role, sha256}.
Result<std::vector<TokenEntry>> ReadTokensFile(const std::string& path);
Result<std::vector<TokenEntry>> ParseTokensFile(std::string_view file_name,
                                                std::string_view yaml_text);

// 127.0.0.0/8, ::1 or "localhost".
bool IsLoopbackHost(std::string_view host);

// Immutable once built; Guard() may run on any server thread.
class AccessControl {
 public:
  // Tokens from http.tokens and http.tokens_file; refuses a listener that is not loopback
  // when there are no tokens, unless http.insecure. `warnings` are for the start-up log.
  static Result<AccessControl> FromConfig(const Config& config);
  AccessControl(std::vector<ApiToken> tokens, std::vector<std::string> open_endpoints);

  // No tokens: every route is open and callers are unauthenticated.
  bool open() const { return tokens_.empty(); }
  size_t token_count() const { return tokens_.size(); }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // The configured token equal to `presented`, or null. Compares with every token.
  const ApiToken* Find(std::string_view presented) const;

  // The server's guard: 401 without a known token, 403 when its role may not call the
  // route, else the handler with request.caller set. Mutating calls, refused or not, go
  // to `audit` (may be null).
  HttpResponse Guard(HttpRequest& request, const RouteAccess& access, const HttpHandler& handler,
                     AuditLog* audit) const;

 private:
  std::vector<ApiToken> tokens_;
  std::vector<std::string> open_endpoints_;
  std::vector<std::string> warnings_;
};

}  // namespace vigil::daemon
