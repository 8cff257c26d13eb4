#include "daemon/lib/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>
#include <boost/asio/ip/address.hpp>

#include "daemon/lib/audit_log.h"

namespace vigil::daemon {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kResponder:
      return "responder";
    case Role::kRuleAdmin:
      return "rule-admin";
    case Role::kIngest:
      return "ingest";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role role :
       {Role::kViewer, Role::kResponder, Role::kRuleAdmin, Role::kIngest, Role::kAdmin}) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

bool RoleAllows(Role held, Role needed) {
  if (held == Role::kAdmin || held == needed) return true;
  // Responders and rule admins read what viewers read; ingest accounts read nothing.
  return needed == Role::kViewer && (held == Role::kResponder || held == Role::kRuleAdmin);
}

TokenDigest Sha256(std::string_view text) {
  TokenDigest digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

bool DigestsEqual(const TokenDigest& a, const TokenDigest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

std::optional<TokenDigest> ParseHexDigest(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  TokenDigest digest{};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < digest.size(); ++i) {
    const int high = nibble(hex[2 * i]), low = nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return digest;
}

std::string Hex(const TokenDigest& digest) {
  std::string out;
  for (unsigned char c : digest) out += fmt::format("{:02x}", c);
  return out;
}

// A header value fit for a log line and an actor name: printable, bounded.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return out;
}

}  // namespace

Result<std::vector<ApiToken>> BuildTokens(const std::vector<TokenEntry>& entries) {
  std::vector<std::string> problems;
  std::vector<ApiToken> tokens;
  std::map<std::string, std::string> names;    // name -> where
  std::map<std::string, std::string> digests;  // hex digest -> where
  for (const TokenEntry& entry : entries) {
    const size_t before = problems.size();
    auto problem = [&](std::string_view field, std::string text) {
      problems.push_back(fmt::format("{}: {}: {}", entry.where, field, text));
    };
    ApiToken token;
    token.name = entry.name;
    token.where = entry.where;
    if (entry.name.empty()) problem("name", "missing (the actor this token acts as)");
    if (auto first = names.find(entry.name); !entry.name.empty() && first != names.end()) {
      problem("name", fmt::format("\"{}\" is used twice (first at {})", entry.name, first->second));
    }
    if (const auto role = ParseRole(entry.role)) {
      token.role = *role;
    } else {
      problem("role",
              fmt::format("{} \"{}\"; expected viewer, responder, rule-admin, "
                          "ingest or admin",
                          entry.role.empty() ? "missing" : "unknown role", Printable(entry.role)));
    }
    if (!entry.token.empty() && !entry.sha256.empty()) {
      problem("token", "set token or sha256, not both");
    } else if (!entry.token.empty()) {
      if (entry.token.size() < kMinTokenLength) {
        problem("token", fmt::format("shorter than {} characters; generate one with "
                                     "`openssl rand -hex 32`",
                                     kMinTokenLength));
      }
      token.digest = Sha256(entry.token);
    } else if (!entry.sha256.empty()) {
      if (const auto digest = ParseHexDigest(entry.sha256)) {
        token.digest = *digest;
      } else {
        problem("sha256", "expected 64 hex digits (`printf %s TOKEN | sha256sum`)");
      }
    } else {
      problem("token", "missing: set token, or sha256 (the SHA-256 of the token in hex)");
    }
    if (problems.size() != before) continue;
    // The same secret under two names would make the actor ambiguous.
    const std::string hex = Hex(token.digest);
    if (auto first = digests.find(hex); first != digests.end()) {
      problem(entry.token.empty() ? "sha256" : "token",
              fmt::format("the same token as the one at {}", first->second));
      continue;
    }
    names.emplace(entry.name, entry.where);
    digests.emplace(hex, entry.where);
    tokens.push_back(std::move(token));
  }
  if (!problems.empty()) return Error{fmt::format("{}", fmt::join(problems, "\n"))};
  return tokens;
}

Result<std::vector<TokenEntry>> ParseTokensFile(std::string_view file_name,
                                                std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return Error{fmt::format("{}:{}: not valid YAML: {}", file_name, e.mark.line + 1, e.msg)};
  }
  auto at = [&](const YAML::Node& node) {
    return fmt::format("{}:{}", file_name, node.Mark().line + 1);
  };
  if (root.IsNull()) return std::vector<TokenEntry>{};
  if (!root.IsSequence()) {
    return Error{
        fmt::format("{}: expected a list of {{name, role, token}} or "
                    "{{name, role, sha256}}",
                    at(root))};
  }
  std::vector<TokenEntry> entries;
  std::vector<std::string> problems;
  for (const YAML::Node& item : root) {
    if (!item.IsMap()) {
      problems.push_back(fmt::format("{}: expected {{name, role, token}}", at(item)));
      continue;
    }
    TokenEntry entry;
    entry.where = at(item);
    for (auto field = item.begin(); field != item.end(); ++field) {
      const YAML::Node name = field->first, value = field->second;
      const std::string key = name.IsScalar() ? name.Scalar() : "?";
      if (!value.IsScalar()) {
        problems.push_back(fmt::format("{}: {}: expected a string", at(name), key));
      } else if (key == "name") {
        entry.name = value.Scalar();
      } else if (key == "role") {
        entry.role = value.Scalar();
      } else if (key == "token") {
        entry.token = value.Scalar();
      } else if (key == "sha256") {
        entry.sha256 = value.Scalar();
      } else {
        problems.push_back(
            fmt::format("{}: {}: unknown field (name, role, token, sha256)", at(name), key));
      }
    }
    entries.push_back(std::move(entry));
  }
  if (!problems.empty()) return Error{fmt::format("{}", fmt::join(problems, "\n"))};
  return entries;
}

Result<std::vector<TokenEntry>> ReadTokensFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{fmt::format("http.tokens_file {}: cannot read it", path)};
  std::stringstream text;
  text << in.rdbuf();
  return ParseTokensFile(path, text.str());
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

AccessControl::AccessControl(std::vector<ApiToken> tokens, std::vector<std::string> open_endpoints)
    : state_(std::make_shared<State>()), open_endpoints_(std::move(open_endpoints)) {
  state_->tokens = std::make_shared<const TokenTable>(std::move(tokens));
}

std::shared_ptr<const AccessControl::TokenTable> AccessControl::Tokens() const {
  std::lock_guard lock(state_->mutex);
  return state_->tokens;
}

Result<std::vector<ApiToken>> AccessControl::ReadTokens(const Config& config) {
  std::vector<TokenEntry> entries = config.http.tokens;
  if (!config.http.tokens_file.empty()) {
    auto from_file = ReadTokensFile(config.http.tokens_file);
    if (!from_file.ok()) return from_file.error();
    entries.insert(entries.end(), from_file->begin(), from_file->end());
  }
  auto tokens = BuildTokens(entries);
  if (!tokens.ok()) return Error{"API tokens are not valid:\n" + tokens.error().message};
  return tokens;
}

Status AccessControl::CheckOpenRule(const Config& config, bool open,
                                    std::vector<std::string>* warnings) {
  if (!open) return Status::Ok();
  const std::string listen = config.http.listen();
  if (IsLoopbackHost(config.http.host)) {
    warnings->push_back(fmt::format(
        "http: no API tokens configured: the API at {} is open to anyone on this machine, "
        "acting unauthenticated (fine for a demo; docs/security.md)",
        listen));
  } else if (config.http.insecure) {
    warnings->push_back(fmt::format(
        "http: INSECURE: no API tokens and http.insecure is true: anyone who can reach {} "
        "may acknowledge incidents, silence alerts and reload rules",
        listen));
  } else {
    return Error{fmt::format(
        "http.listen {} is not a loopback address and no API tokens are configured: anyone "
        "who can reach it could acknowledge incidents, silence alerts and reload rules. Set "
        "http.tokens or http.tokens_file (docs/security.md), listen on 127.0.0.1, or set "
        "http.insecure: true to accept this",
        listen)};
  }
  return Status::Ok();
}

Result<AccessControl> AccessControl::FromConfig(const Config& config) {
  auto tokens = ReadTokens(config);
  if (!tokens.ok()) return tokens.error();
  AccessControl access(std::move(*tokens), config.http.open_endpoints);
  if (Status allowed = CheckOpenRule(config, access.open(), &access.warnings_); !allowed.ok())
    return allowed.error();
  return access;
}

Result<size_t> AccessControl::ReloadTokens(const Config& config) {
  auto tokens = ReadTokens(config);
  if (!tokens.ok()) return tokens.error();
  std::vector<std::string> warnings;
  if (Status allowed = CheckOpenRule(config, tokens->empty(), &warnings); !allowed.ok())
    return allowed.error();
  for (const std::string& warning : warnings) spdlog::warn("{}", warning);
  const size_t count = tokens->size();
  auto table = std::make_shared<const TokenTable>(std::move(*tokens));
  std::lock_guard lock(state_->mutex);
  state_->tokens = std::move(table);
  return count;
}

std::optional<ApiToken> AccessControl::Find(std::string_view presented) const {
  const TokenDigest digest = Sha256(presented);
  const std::shared_ptr<const TokenTable> tokens = Tokens();
  const ApiToken* found = nullptr;
  for (const ApiToken& token : *tokens) {
    // Every token is compared, whichever matches, so the time says nothing of which.
    const bool equal = DigestsEqual(digest, token.digest);
    found = equal ? &token : found;
  }
  if (found == nullptr) return std::nullopt;
  return *found;
}

namespace {

HttpResponse Unauthorized(std::string_view message, bool invalid_token) {
  HttpResponse response = HttpResponse::JsonError(401, message);
  response.headers.emplace_back("WWW-Authenticate", invalid_token ? "Bearer realm=\"vigil\", "
                                                                    "error=\"invalid_token\""
                                                                  : "Bearer realm=\"vigil\"");
  return response;
}

std::string NeededRoles(Role needed) {
  switch (needed) {
    case Role::kViewer:
      return "viewer, responder, rule-admin or admin";
    case Role::kAdmin:
      return "admin";
    default:
      return fmt::format("{} or admin", RoleName(needed));
  }
}

}  // namespace

HttpResponse AccessControl::Guard(HttpRequest& request, const RouteAccess& access,
                                  const HttpHandler& handler, AuditLog* audit) const {
  const std::optional<AuditedAction> audited = AuditedActionOf(request);
  auto refuse = [&](HttpResponse response, std::string_view why) {
    if (audited && audit != nullptr) audit->Record(AuditRecordOf(request, *audited, response));
    spdlog::info("http: {} {} from {} refused ({}): {}", request.method, request.path,
                 request.remote, response.status, why);
    return response;
  };
  auto run = [&]() {
    HttpResponse response = handler(request);
    if (audited && audit != nullptr) audit->Record(AuditRecordOf(request, *audited, response));
    return response;
  };

  if (access.self_authenticated && access.self_authenticated(request)) {
    request.caller_role = "signed";
    return run();
  }
  const bool open_endpoint = std::find(open_endpoints_.begin(), open_endpoints_.end(),
                                       request.path) != open_endpoints_.end();
  if (open() || open_endpoint) {
    // The header is a claim nobody checked: shown as such wherever it is recorded.
    const std::string claimed = Printable(request.header("x-vigil-actor"));
    request.caller = claimed.empty()
                         ? fmt::format("unauthenticated ({})", request.remote)
                         : fmt::format("{} (unauthenticated, {})", claimed, request.remote);
    request.caller_role = "open";
    return run();
  }
  const std::string authorization = request.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return refuse(
        Unauthorized("this endpoint needs an API token: send Authorization: Bearer <token>", false),
        "no token");
  }
  const std::optional<ApiToken> token =
      Find(std::string_view(authorization).substr(kBearer.size()));
  if (!token) return refuse(Unauthorized("the API token is not known", true), "an unknown token");
  request.caller = token->name;
  request.caller_role = std::string(RoleName(token->role));
  if (!RoleAllows(token->role, access.role)) {
    const std::string why =
        fmt::format("token \"{}\" has role {}; {} {} needs {}", token->name, RoleName(token->role),
                    request.method, request.path, NeededRoles(access.role));
    return refuse(HttpResponse::JsonError(403, why), why);
  }
  return run();
}

}  // namespace vigil::daemon
