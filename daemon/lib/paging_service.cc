#include "daemon/lib/paging_service.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerts/signing.h"

namespace vigil::daemon {

Result<std::shared_ptr<const alerts::PagingConfig>> LoadPaging(const Config& config) {
  if (config.alerts.paging.empty()) return alerts::EmptyPagingConfig();
  return alerts::LoadPagingConfig(config.alerts.paging);
}

std::vector<std::string> CheckOwners(const alerts::PagingConfig& paging,
                                     const rules::RuleSet& set) {
  std::vector<std::string> warnings;
  std::set<std::string> seen;
  for (const rules::CompiledRule& rule : set.rules()) {
    const std::string& owner = rule.def.owner;
    if (owner.empty() || paging.roles.contains(owner) || !seen.insert(owner).second) continue;
    warnings.push_back(fmt::format(
        "owner {} (rule {} and maybe others) is not a role in the paging file: pages to the "
        "owner of its incidents reach nobody",
        owner, rule.def.id));
  }
  return warnings;
}

Result<std::string> LinkSecret(const Config& config) {
  if (!config.alerts.link_secret.empty()) return config.alerts.link_secret;
  const std::string path = (std::filesystem::path(config.state.dir) / "link.key").string();
  {
    std::ifstream in(path);
    std::string key;
    if (in && std::getline(in, key) && key.size() >= 32) return key;
  }
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Error{"cannot make a link key: no randomness"};
  const std::string key =
      alerts::HexLower(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << key << "\n";
    if (!out) return Error{tmp + ": cannot write the link key"};
  }
  ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error{path + ": cannot write the link key: " + ec.message()};
  return key;
}

PagingService::PagingService(alerts::StateStore& store, const Clock& clock,
                             std::shared_ptr<const alerts::PagingConfig> paging,
                             alerts::PagerOptions options)
    : sender_(alerts::MakeChannelSender(*paging)),
      pager_(store, clock, std::move(paging), *sender_, std::move(options)),
      dispatcher_(store, clock,
                  alerts::DeliverBatchFn([this](const std::vector<alerts::OutboxEntry>& due) {
                    return pager_.Deliver(due);
                  }),
                  alerts::DispatcherOptions{},
                  [this](const alerts::OutboxEntry& entry, const std::string& error) {
                    pager_.OnDead(entry, error);
                  }) {}

PagingService::~PagingService() { Stop(); }

void PagingService::Start() { dispatcher_.Start(); }
void PagingService::Stop() { dispatcher_.Stop(); }

}  // namespace vigil::daemon
