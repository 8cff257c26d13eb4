#include "alerts/pager.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "alerts/email_notifier.h"
#include "alerts/http_sender.h"
#include "alerts/notification_format.h"
#include "alerts/signing.h"
#include "alerts/smtp_sender.h"

namespace vigil::alerts {
namespace {

using nlohmann::json;

json ParsePayload(const std::string& text) {
  json payload = json::parse(text, nullptr, false);
  return payload.is_object() ? payload : json::object();
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

DeliveryResult FromOutcome(const DeliveryOutcome& outcome) {
  DeliveryResult result;
  result.kind = outcome.delivery == Delivery::kDelivered   ? DeliveryResult::Kind::kDelivered
                : outcome.delivery == Delivery::kPermanent ? DeliveryResult::Kind::kPermanent
                                                           : DeliveryResult::Kind::kRetryable;
  result.detail = outcome.detail;
  if (outcome.retry_after_ms > 0) {
    result.retry_after = std::chrono::seconds((outcome.retry_after_ms + 999) / 1000);
  }
  return result;
}

class ChannelSender : public Sender {
 public:
  explicit ChannelSender(const PagingConfig& paging) {
    for (const auto& [name, channel] : paging.channels) {
      if (channel.type == "email") smtp_[name] = std::make_unique<SmtpSender>(channel.smtp);
    }
  }
  DeliveryOutcome Send(const OutgoingRequest& request) override {
    if (request.url.starts_with("smtp://") || request.url.starts_with("smtps://")) {
      auto it = smtp_.find(request.profile);
      return it != smtp_.end() ? it->second->Send(request) : default_smtp_.Send(request);
    }
    return http_.Send(request);
  }

 private:
  HttpSender http_;
  SmtpSender default_smtp_;
  std::map<std::string, std::unique_ptr<SmtpSender>> smtp_;
};

// Names the destination on every request it forwards.
class ProfileSender : public Sender {
 public:
  ProfileSender(Sender& inner, std::string profile) : inner_(inner), profile_(std::move(profile)) {}
  DeliveryOutcome Send(const OutgoingRequest& request) override {
    OutgoingRequest named = request;
    named.profile = profile_;
    return inner_.Send(named);
  }

 private:
  Sender& inner_;
  const std::string profile_;
};

}  // namespace

std::unique_ptr<Sender> MakeChannelSender(const PagingConfig& paging) {
  return std::make_unique<ChannelSender>(paging);
}

Pager::Pager(StateStore& store, const Clock& clock, std::shared_ptr<const PagingConfig> config,
             Sender& sender, PagerOptions options)
    : store_(store),
      clock_(clock),
      config_(config ? std::move(config) : EmptyPagingConfig()),
      sender_(sender),
      options_(std::move(options)) {
  SetPublicUrl(options_.public_url.empty() ? config_->public_url : options_.public_url);
  for (const auto& [name, channel] : config_->channels) channel_stats_.try_emplace(name);
}

ChannelStats& Pager::StatsOf(const std::string& channel) {
  auto found = channel_stats_.find(channel);
  return found == channel_stats_.end() ? unknown_channel_ : found->second;
}

void Pager::SetPublicUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::lock_guard lock(url_mutex_);
  public_url_ = std::move(url);
}

std::string Pager::public_url() const {
  std::lock_guard lock(url_mutex_);
  return public_url_;
}

std::string Pager::IncidentUrl(int64_t incident_id) const {
  const std::string base = public_url();
  if (base.empty()) return "";
  return fmt::format("{}/api/v1/incidents/{}", base, incident_id);
}

std::string Pager::AckUrl(int64_t incident_id, const std::string& person) const {
  const std::string base = public_url();
  if (base.empty() || options_.link_secret.empty()) return "";
  const std::string sig =
      HexLower(HmacSha256(options_.link_secret, fmt::format("ack:{}:{}", incident_id, person)));
  return fmt::format("{}/api/v1/incidents/{}/ack?by={}&sig={}", base, incident_id,
                     PercentEncode(person), sig);
}

bool Pager::CheckAck(int64_t incident_id, const std::string& person, const std::string& sig) const {
  if (options_.link_secret.empty() || person.empty() || sig.size() != 64) return false;
  const std::string expected =
      HexLower(HmacSha256(options_.link_secret, fmt::format("ack:{}:{}", incident_id, person)));
  // Constant time: the comparison does not stop at the first differing character.
  unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) diff |= expected[i] ^ sig[i];
  return diff == 0;
}

std::vector<std::string> Pager::Excerpts(int64_t incident_id) const {
  std::vector<std::string> out;
  auto detail = store_.GetIncident(incident_id);
  if (!detail.ok() || !detail->has_value()) return out;
  const auto& evidence = (*detail)->evidence;
  // The latest ones: what is happening now.
  for (auto it = evidence.rbegin(); it != evidence.rend() && out.size() < options_.max_excerpts;
       ++it) {
    if (!it->excerpt.empty()) out.push_back(it->excerpt);
  }
  return out;
}

Notification Pager::ToNotification(const OutboxEntry& entry) const {
  const json p = ParsePayload(entry.payload);
  Notification n;
  n.kind = entry.kind;
  n.incident_id = entry.incident_id;
  n.idempotency_key = entry.idempotency_key;
  n.severity = Str(p, "severity");
  n.category = Str(p, "category");
  n.rule_id = Str(p, "rule_id");
  n.owner = Str(p, "owner");
  n.community = Str(p, "community");
  n.state = Str(p, "state");
  n.hits = Int(p, "hits");
  n.escalation_level = static_cast<int>(Int(p, "level"));
  n.opened_ms = Int(p, "opened_ms");
  n.timestamp_ms = entry.created_ms;
  n.mentions = Strings(p, "mentions");
  n.incident_url = IncidentUrl(entry.incident_id);
  const std::vector<std::string> people = Strings(p, "people");
  if (n.kind == "page" || n.kind == "reminder") {
    // One link per message: the first person addressed (a group robot's link is shared).
    n.ack_url = AckUrl(entry.incident_id, people.empty() ? std::string("link") : people.front());
  }
  if (n.kind == "acknowledge" && !Str(p, "acked_by").empty()) {
    n.title = fmt::format("[{}] {}: {}{} — by {}", n.severity, n.category, n.rule_id,
                          n.community.empty() ? "" : " in " + n.community, Str(p, "acked_by"));
  }
  if (n.kind != "acknowledge" && n.kind != "resolve") n.excerpts = Excerpts(entry.incident_id);
  return n;
}

Notification Pager::Digest(const std::vector<Notification>& folded, const std::string& why) const {
  Notification d;
  d.kind = "digest";
  d.digest_count = static_cast<int>(folded.size());
  rules::Severity top = rules::Severity::kInfo;
  std::set<std::string> mentions;
  for (const Notification& n : folded) {
    if (auto s = rules::ParseSeverity(n.severity); s && *s > top) top = *s;
    mentions.insert(n.mentions.begin(), n.mentions.end());
    std::string line = Headline(n) + fmt::format(" ({} hits)", n.hits);
    if (!n.incident_url.empty()) line += " " + n.incident_url;
    d.excerpts.push_back(std::move(line));
  }
  d.severity = std::string(rules::SeverityName(top));
  d.title = fmt::format("{} incidents need attention ({})", folded.size(), why);
  d.mentions.assign(mentions.begin(), mentions.end());
  d.idempotency_key = "digest-" + (folded.empty() ? std::string() : folded.front().idempotency_key);
  const std::string base = public_url();
  d.incident_url = base.empty() ? "" : base + "/api/v1/incidents?state=open";
  d.timestamp_ms = clock_.NowMillis();
  return d;
}

DeliveryResult Pager::Expand(const OutboxEntry& decision) {
  const json p = ParsePayload(decision.payload);
  const int64_t now_ms = clock_.NowMillis();
  const auto severity = rules::ParseSeverity(Str(p, "severity")).value_or(rules::Severity::kMedium);
  std::map<std::string, Recipients> destinations;
  std::vector<std::string> notes;  // for the timeline: who was (not) paged, and why
  auto add_person = [&](const std::string& id, const std::string& why) {
    auto person = config_->people.find(id);
    if (person == config_->people.end()) {
      notes.push_back(fmt::format("{}: not in the paging configuration", id));
      return;
    }
    std::vector<std::string> where;
    for (const Contact& contact : person->second.contacts) {
      Recipients& r = destinations[contact.channel];
      if (!contact.mention.empty() &&
          std::find(r.mentions.begin(), r.mentions.end(), contact.mention) == r.mentions.end()) {
        r.mentions.push_back(contact.mention);
      }
      if (std::find(r.people.begin(), r.people.end(), id) == r.people.end()) r.people.push_back(id);
      where.push_back(contact.channel);
    }
    notes.push_back(
        fmt::format("{} ({}{}) on {}", person->second.name, id, why, fmt::join(where, ", ")));
  };

  if (decision.kind == "acknowledge" || decision.kind == "resolve") {
    auto paged = store_.PagedDestinations(decision.incident_id);
    if (!paged.ok()) return {DeliveryResult::Kind::kRetryable, paged.error().message, std::nullopt};
    for (const std::string& d : *paged) destinations[d];
    if (paged->empty()) notes.push_back("nobody was paged, nobody to tell");
  } else {
    for (const std::string& target : Strings(p, "targets")) {
      if (target.starts_with("person:")) {
        add_person(target.substr(7), "");
        continue;
      }
      const std::string role_id = target == "owner" ? Str(p, "owner") : target.substr(5);
      auto role = config_->roles.find(role_id);
      if (role == config_->roles.end()) {
        notes.push_back(
            fmt::format("role {}: not in the paging configuration, nobody paged", role_id));
        continue;
      }
      if (QuietFor(role->second, severity, now_ms)) {
        notes.push_back(fmt::format("role {}: quiet hours, not paged ({} is below {})", role_id,
                                    rules::SeverityName(severity),
                                    rules::SeverityName(role->second.quiet_hours->min_severity)));
        continue;
      }
      for (const std::string& person : OnCall(role->second, now_ms)) {
        add_person(
            person,
            ", " + role_id +
                (role->second.rotation || !role->second.overrides.empty() ? " on call" : ""));
      }
    }
  }

  std::vector<OutboxEntry> children;
  for (const auto& [destination, recipients] : destinations) {
    json payload = p;
    payload["destination"] = destination;
    payload["mentions"] = recipients.mentions;
    payload["people"] = recipients.people;
    OutboxEntry child;
    child.incident_id = decision.incident_id;
    child.idempotency_key = decision.idempotency_key + "/" + destination;
    child.kind = decision.kind;
    child.payload = DumpJson(payload);
    child.created_ms = now_ms;
    child.destination = destination;
    children.push_back(std::move(child));
  }
  std::vector<AuditEntry> audit;
  const std::string what = decision.kind == "page" || decision.kind == "reminder"
                               ? fmt::format("{} (level {})", decision.kind, Int(p, "level"))
                               : decision.kind + " notice";
  const bool page = decision.kind == "page" || decision.kind == "reminder";
  if (page && children.empty()) ++stats_.nobody;
  const std::string detail =
      children.empty()
          ? fmt::format("{}: nobody to send it to; {}", what, fmt::join(notes, "; "))
          : fmt::format("{}: {}", what,
                        notes.empty() ? fmt::format("{} destination(s)", children.size())
                                      : fmt::format("{}", fmt::join(notes, "; ")));
  if (page && children.empty()) {
    spdlog::warn("incident {}: {}", decision.incident_id, detail);
  }
  audit.push_back({decision.incident_id, now_ms, "vigil", "notified", detail});
  if (Status expanded = store_.Expand(decision.id, children, audit, now_ms); !expanded.ok()) {
    return {DeliveryResult::Kind::kRetryable, expanded.error().message, std::nullopt};
  }
  return {DeliveryResult::Kind::kDelivered,
          fmt::format("expanded into {} deliveries", children.size()), std::nullopt};
}

RateBudget& Pager::BudgetFor(const ChannelConfig& channel) {
  std::lock_guard lock(budgets_mutex_);
  auto it = budgets_.find(channel.name);
  if (it == budgets_.end()) {
    it = budgets_.emplace(channel.name, RateBudget(channel.budget_per_minute, clock_.NowMillis()))
             .first;
  }
  return it->second;
}

std::map<std::string, int> Pager::BudgetRemaining() {
  std::map<std::string, int> out;
  const int64_t now_ms = clock_.NowMillis();
  for (const auto& [name, channel] : config_->channels) {
    if (channel.budget_per_minute <= 0) continue;
    RateBudget& budget = BudgetFor(channel);
    std::lock_guard lock(budgets_mutex_);
    out[name] = budget.Available(now_ms);
  }
  return out;
}

DeliveryResult Pager::Send(const ChannelConfig& channel, const Notification& notification) {
  const int64_t now_ms = clock_.NowMillis();
  {
    RateBudget& budget = BudgetFor(channel);
    std::lock_guard lock(budgets_mutex_);
    budget.Spend(now_ms);
  }
  std::shared_ptr<const Notifier> notifier = channel.notifier;
  if (channel.type == "email") {
    // The fixed recipients plus the addresses of the people paged.
    std::vector<std::string> to = channel.email_to;
    for (const std::string& m : notification.mentions) {
      if (m.find('@') != std::string::npos && std::find(to.begin(), to.end(), m) == to.end())
        to.push_back(m);
    }
    if (to.empty()) {
      return {DeliveryResult::Kind::kPermanent,
              fmt::format("channel {}: no recipients (no 'to' and no addresses)", channel.name),
              std::nullopt};
    }
    auto made = MakeEmailNotifier({channel.email_smtp_url, channel.email_from, to});
    if (!made.ok()) return {DeliveryResult::Kind::kPermanent, made.error().message, std::nullopt};
    notifier = std::shared_ptr<const Notifier>(std::move(*made));
  }
  ProfileSender sender(sender_, channel.name);
  DeliveryResult result = FromOutcome(alerts::Deliver(*notifier, sender, notification, now_ms));
  result.detail = fmt::format("{}: {}", channel.name, result.detail);
  const bool delivered = result.kind == DeliveryResult::Kind::kDelivered;
  ++(delivered ? stats_.sent : stats_.failed);
  ++(delivered ? StatsOf(channel.name).sent : StatsOf(channel.name).failed);
  return result;
}

void Pager::DeliverDestination(const std::string& destination, const std::vector<size_t>& indexes,
                               const std::vector<OutboxEntry>& due,
                               std::vector<DeliveryResult>& results) {
  auto found = config_->channels.find(destination);
  if (found == config_->channels.end()) {
    for (size_t i : indexes) {
      results[i] = {DeliveryResult::Kind::kPermanent,
                    fmt::format("channel {} is no longer in the paging configuration", destination),
                    std::nullopt};
    }
    return;
  }
  const ChannelConfig& channel = found->second;
  const int64_t now_ms = clock_.NowMillis();
  int available;
  {
    RateBudget& budget = BudgetFor(channel);
    std::lock_guard lock(budgets_mutex_);
    available = budget.Available(now_ms);
  }
  const size_t n = indexes.size();
  if (available >= static_cast<int>(n)) {
    for (size_t i : indexes) results[i] = Send(channel, ToNotification(due[i]));
    return;
  }
  // More pending than the budget allows: send what fits one by one and fold the rest
  // into one digest; or, with nothing left, use the failover channel; or wait.
  const ChannelConfig* via = &channel;
  size_t singles = available > 0 ? static_cast<size_t>(available - 1) : 0;
  std::string why = fmt::format("rate limit of {}", channel.name);
  if (available == 0) {
    auto failover = config_->channels.find(channel.failover);
    int failover_available = 0;
    if (failover != config_->channels.end()) {
      RateBudget& budget = BudgetFor(failover->second);
      std::lock_guard lock(budgets_mutex_);
      failover_available = budget.Available(now_ms);
    }
    if (failover_available == 0) {
      int64_t wait_ms;
      {
        RateBudget& budget = BudgetFor(channel);
        std::lock_guard lock(budgets_mutex_);
        wait_ms = budget.WaitMs(now_ms);
      }
      for (size_t i : indexes) {
        results[i] = {DeliveryResult::Kind::kDeferred,
                      fmt::format("{}: rate budget spent; waiting {} ms", channel.name, wait_ms),
                      std::chrono::seconds((wait_ms + 999) / 1000)};
      }
      stats_.deferred += n;
      StatsOf(channel.name).deferred += n;
      return;
    }
    via = &failover->second;
    why = fmt::format("{} is rate limited; sent via {}", channel.name, via->name);
    stats_.failovers += n;
    StatsOf(channel.name).failover += n;
  }
  for (size_t k = 0; k < singles; ++k)
    results[indexes[k]] = Send(channel, ToNotification(due[indexes[k]]));
  std::vector<Notification> folded;
  for (size_t k = singles; k < n; ++k) folded.push_back(ToNotification(due[indexes[k]]));
  if (via != &channel) {
    // Address the same people on the failover channel, where they have a contact there.
    for (size_t k = singles; k < n; ++k) {
      Notification& f = folded[k - singles];
      f.mentions.clear();
      const json payload = ParsePayload(due[indexes[k]].payload);
      for (const std::string& id : Strings(payload, "people")) {
        auto person = config_->people.find(id);
        if (person == config_->people.end()) continue;
        for (const Contact& contact : person->second.contacts) {
          if (contact.channel == via->name && !contact.mention.empty())
            f.mentions.push_back(contact.mention);
        }
      }
    }
  }
  Notification digest = folded.size() == 1 ? folded.front() : Digest(folded, why);
  if (via != &channel && folded.size() == 1) {
    digest.title = Headline(digest) + " (" + why + ")";
  }
  const DeliveryResult sent = Send(*via, digest);
  if (folded.size() > 1) {
    ++stats_.digests;
    stats_.folded += folded.size();
    StatsOf(channel.name).folded += folded.size();
  }
  for (size_t k = singles; k < n; ++k) {
    results[indexes[k]] = sent;
    if (folded.size() > 1)
      results[indexes[k]].detail += fmt::format(" (digest of {})", folded.size());
  }
}

std::vector<DeliveryResult> Pager::Deliver(const std::vector<OutboxEntry>& due) {
  std::vector<DeliveryResult> results(due.size());
  std::map<std::string, std::vector<size_t>> by_destination;
  for (size_t i = 0; i < due.size(); ++i) {
    if (due[i].destination.empty()) {
      results[i] = Expand(due[i]);
    } else {
      by_destination[due[i].destination].push_back(i);
    }
  }
  for (const auto& [destination, indexes] : by_destination) {
    DeliverDestination(destination, indexes, due, results);
  }
  return results;
}

void Pager::OnDead(const OutboxEntry& entry, const std::string& error) {
  if (!entry.destination.empty()) ++StatsOf(entry.destination).dead;
  const int64_t now_ms = clock_.NowMillis();
  Batch batch;
  batch.audit.push_back({entry.incident_id, now_ms, "vigil", "delivery failed",
                         fmt::format("{} to {} gave up after {} attempts: {}", entry.kind,
                                     entry.destination.empty() ? "(expansion)" : entry.destination,
                                     entry.attempts + 1, error)});
  const std::string& channel = config_->dead_letter_channel;
  if (!channel.empty() && channel != entry.destination) {
    // Announce it on the dead-letter channel: somebody must page by hand.
    json payload = ParsePayload(entry.payload);
    payload["destination"] = channel;
    payload["mentions"] = json::array();
    payload["people"] = json::array();
    OutboxEntry notice;
    notice.incident_id = entry.incident_id;
    notice.idempotency_key = entry.idempotency_key + "/dead/" + channel;
    notice.kind = "page";
    notice.payload = DumpJson(payload);
    notice.created_ms = now_ms;
    notice.destination = channel;
    batch.outbox.push_back(std::move(notice));
  }
  if (Status applied = store_.Apply(batch); !applied.ok()) {
    spdlog::error("outbox: cannot record the dead delivery {}: {}", entry.idempotency_key,
                  applied.error().message);
  }
}

}  // namespace vigil::alerts
