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
#include <memory>
#include <mutex>
#include <optional>
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

// Guard() may run on any server thread; ReloadTokens() swaps the token table under it
// (a request sees the old table or the new one, never a mix).
class AccessControl {
 public:
  // Tokens from http.tokens and http.tokens_file; refuses a listener that is not loopback
  // when there are no tokens, unless http.insecure. `warnings` are for the start-up log.
  static Result<AccessControl> FromConfig(const Config& config);
  AccessControl(std::vector<ApiToken> tokens, std::vector<std::string> open_endpoints);

  // Reads http.tokens_file again (SIGHUP: tokens are rotated without a restart; the
  // in-memory http.tokens stay). A file with errors, or one that would leave a listener
  // that is not loopback without tokens, is refused and the current tokens stay.
  Result<size_t> ReloadTokens(const Config& config);

  // No tokens: every route is open and callers are unauthenticated.
  bool open() const { return token_count() == 0; }
  size_t token_count() const { return Tokens()->size(); }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // The configured token equal to `presented`, if any. Compares with every token.
  std::optional<ApiToken> Find(std::string_view presented) const;

  // The server's guard: 401 without a known token, 403 when its role may not call the
  // route, else the handler with request.caller set. Mutating calls, refused or not, go
  // to `audit` (may be null).
  HttpResponse Guard(HttpRequest& request, const RouteAccess& access, const HttpHandler& handler,
                     AuditLog* audit) const;

 private:
  using TokenTable = std::vector<ApiToken>;
  // Shared by moved copies; the table inside is replaced whole.
  struct State {
    mutable std::mutex mutex;
    std::shared_ptr<const TokenTable> tokens;  // GUARDED_BY(mutex)
  };
  std::shared_ptr<const TokenTable> Tokens() const;
  static Result<std::vector<ApiToken>> ReadTokens(const Config& config);
  static Status CheckOpenRule(const Config& config, bool open, std::vector<std::string>* warnings);

  std::shared_ptr<State> state_;
  std::vector<std::string> open_endpoints_;
  std::vector<std::string> warnings_;
};

}  // namespace vigil::daemon
