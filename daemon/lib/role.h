// The roles an API token is given (docs/security.md). DESIGN.md names four; `ingest` is
// ours, for connectors and service accounts that only post.
#pragma once

#include <optional>
#include <string_view>

namespace vigil::daemon {

enum class Role {
  kViewer,     // reads: status, rules, incidents, silences
  kResponder,  // viewer + acknowledge, resolve, add and expire silences
  kRuleAdmin,  // viewer + rule testing and reload
  kIngest,     // posts only (POST /api/v1/posts)
  kAdmin,      // everything
};

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);
// Whether a token holding `held` may call a route that needs `needed`.
bool RoleAllows(Role held, Role needed);

}  // namespace vigil::daemon
