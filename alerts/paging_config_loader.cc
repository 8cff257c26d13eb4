// Reads the paging YAML into a PagingConfig, collecting every problem with its position.
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "alerts/alertmanager_notifier.h"
#include "alerts/dingtalk_notifier.h"
#include "alerts/email_notifier.h"
#include "alerts/feishu_notifier.h"
#include "alerts/pagerduty_notifier.h"
#include "alerts/paging_config.h"
#include "alerts/slack_notifier.h"
#include "alerts/webhook_notifier.h"
#include "alerts/wecom_notifier.h"

namespace vigil::alerts {
namespace {

const std::set<std::string> kChannelTypes = {"webhook", "slack",    "pagerduty", "alertmanager",
                                             "wecom",   "dingtalk", "feishu",    "email"};

// Robots' documented limits: WeCom, DingTalk and Feishu about 20 a minute, Slack one a second.
int DefaultBudget(const std::string& type) {
  if (type == "wecom" || type == "dingtalk" || type == "feishu") return 20;
  if (type == "slack") return 60;
  return 0;
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void Fail(const YAML::Node& node, std::string message) {
    const YAML::Mark mark = node.Mark();
    errors_.push_back(Location{file_, mark.line + 1, mark.column + 1}.ToString() + ": " +
                      std::move(message));
  }
  const std::vector<std::string>& errors() const { return errors_; }

  // Keys of a map must be among `known`; reports the others.
  bool Map(const YAML::Node& node, std::string_view what, const std::set<std::string>& known) {
    if (!node.IsMap()) {
      Fail(node, fmt::format("{} must be a mapping", what));
      return false;
    }
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>("");
      if (!known.empty() && !known.contains(key)) {
        Fail(item.first, fmt::format("unknown key '{}' in {} (expected one of: {})", key, what,
                                     fmt::join(known, ", ")));
      }
    }
    return true;
  }

  // A string; `${env:NAME}` is replaced by that environment variable (secrets).
  bool String(const YAML::Node& node, std::string_view what, std::string& out) {
    if (!node.IsScalar()) {
      Fail(node, fmt::format("{} must be a string", what));
      return false;
    }
    std::string value = node.Scalar();
    for (size_t start; (start = value.find("${env:")) != std::string::npos;) {
      const size_t end = value.find('}', start);
      if (end == std::string::npos) break;
      const std::string name = value.substr(start + 6, end - start - 6);
      const char* env = std::getenv(name.c_str());
      if (env == nullptr) {
        Fail(node, fmt::format("{}: environment variable {} is not set", what, name));
        return false;
      }
      value.replace(start, end - start + 1, env);
    }
    out = std::move(value);
    return true;
  }

  bool StringList(const YAML::Node& node, std::string_view what, std::vector<std::string>& out) {
    if (node.IsScalar()) return String(node, what, out.emplace_back());
    if (!node.IsSequence()) {
      Fail(node, fmt::format("{} must be a list of strings", what));
      return false;
    }
    for (const YAML::Node& item : node) {
      if (!String(item, what, out.emplace_back())) return false;
    }
    return true;
  }

  bool Int(const YAML::Node& node, std::string_view what, int min, int max, int& out) {
    const std::string s = node.IsScalar() ? node.Scalar() : "";
    int value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value < min || value > max) {
      Fail(node,
           fmt::format("{} must be a whole number from {} to {}, not '{}'", what, min, max, s));
      return false;
    }
    out = value;
    return true;
  }

  // "30s", "10m", "2h", "1d".
  bool Duration(const YAML::Node& node, std::string_view what, std::chrono::seconds& out) {
    static const std::regex kDuration("^([0-9]{1,9})([smhd])$");
    std::smatch m;
    const std::string s = node.IsScalar() ? node.Scalar() : "";
    if (!std::regex_match(s, m, kDuration)) {
      Fail(node,
           fmt::format("{} must be a duration such as 30s, 10m, 2h or 1d, not '{}'", what, s));
      return false;
    }
    const long long unit = m[2] == "s" ? 1 : m[2] == "m" ? 60 : m[2] == "h" ? 3600 : 86400;
    out = std::chrono::seconds(std::stoll(m[1].str()) * unit);
    return true;
  }

  bool Zone(const YAML::Node& node, std::string_view what, TimeZone& out) {
    std::string name;
    if (!String(node, what, name)) return false;
    auto zone = TimeZone::Load(name);
    if (!zone.ok()) {
      Fail(node, fmt::format("{}: {}", what, zone.error().message));
      return false;
    }
    out = *zone;
    return true;
  }

  bool Severity(const YAML::Node& node, std::string_view what, rules::Severity& out) {
    std::string s;
    if (!String(node, what, s)) return false;
    auto severity = rules::ParseSeverity(s);
    if (!severity) {
      Fail(node,
           fmt::format("{}: unknown severity '{}' (info, low, medium, high, critical)", what, s));
      return false;
    }
    out = *severity;
    return true;
  }

  std::string file_;

 private:
  std::vector<std::string> errors_;
};

void ReadChannel(Reader& r, const std::string& name, const YAML::Node& node, PagingConfig& config) {
  ChannelConfig channel;
  channel.name = name;
  channel.where = {r.file_, node.Mark().line + 1, node.Mark().column + 1};
  if (!r.Map(node, "channel " + name,
             {"type", "url", "secret", "headers", "routing_key", "labels", "smtp_url", "from", "to",
              "starttls", "username", "password", "ca_file", "budget_per_minute", "failover"})) {
    return;
  }
  if (!node["type"]) {
    r.Fail(node, fmt::format("channel {}: 'type' is required ({})", name,
                             fmt::join(kChannelTypes, ", ")));
    return;
  }
  if (!r.String(node["type"], "type", channel.type)) return;
  if (!kChannelTypes.contains(channel.type)) {
    r.Fail(node["type"], fmt::format("channel {}: unknown type '{}' (expected one of: {})", name,
                                     channel.type, fmt::join(kChannelTypes, ", ")));
    return;
  }
  bool missing = false;
  auto get = [&](const char* key, bool required) {
    std::string value;
    if (node[key]) {
      r.String(node[key], key, value);
    } else if (required) {
      r.Fail(node, fmt::format("channel {} ({}): '{}' is required", name, channel.type, key));
      missing = true;
    }
    return value;
  };
  auto pairs = [&](const char* key) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!node[key]) return out;
    if (!node[key].IsMap()) {
      r.Fail(node[key], fmt::format("channel {}: '{}' must be a mapping", name, key));
      return out;
    }
    for (const auto& item : node[key]) {
      std::string value;
      if (r.String(item.second, key, value))
        out.emplace_back(item.first.as<std::string>(""), value);
    }
    return out;
  };
  channel.budget_per_minute = DefaultBudget(channel.type);
  if (node["budget_per_minute"]) {
    r.Int(node["budget_per_minute"], "budget_per_minute", 0, 100000, channel.budget_per_minute);
  }
  if (node["failover"]) r.String(node["failover"], "failover", channel.failover);

  Result<std::unique_ptr<Notifier>> made = Error{"not built"};
  const std::string& type = channel.type;
  if (type == "webhook") {
    made = MakeWebhookNotifier({get("url", true), get("secret", false), pairs("headers")});
  } else if (type == "slack") {
    made = MakeSlackNotifier({get("url", true)});
  } else if (type == "pagerduty") {
    PagerDutyConfig pd;
    pd.routing_key = get("routing_key", true);
    if (node["url"]) pd.url = get("url", false);
    made = MakePagerDutyNotifier(pd);
  } else if (type == "alertmanager") {
    AlertmanagerConfig am;
    am.base_url = get("url", true);
    am.headers = pairs("headers");
    am.extra_labels = pairs("labels");
    made = MakeAlertmanagerNotifier(am);
  } else if (type == "wecom") {
    made = MakeWeComNotifier({get("url", true)});
  } else if (type == "dingtalk") {
    made = MakeDingTalkNotifier({get("url", true), get("secret", false)});
  } else if (type == "feishu") {
    made = MakeFeishuNotifier({get("url", true), get("secret", false)});
  } else if (type == "email") {
    channel.email_smtp_url = get("smtp_url", true);
    channel.email_from = get("from", true);
    channel.smtp.username = get("username", false);
    channel.smtp.password = get("password", false);
    channel.smtp.ca_file = get("ca_file", false);
    if (node["starttls"] && !YAML::convert<bool>::decode(node["starttls"], channel.smtp.starttls)) {
      r.Fail(node["starttls"], fmt::format("channel {}: starttls must be true or false", name));
    }
    if (node["to"]) r.StringList(node["to"], "to", channel.email_to);
    // Recipients come per message (people's addresses); a placeholder checks the rest.
    std::vector<std::string> to = channel.email_to;
    if (to.empty()) to.push_back("check@example.invalid");
    made = MakeEmailNotifier({channel.email_smtp_url, channel.email_from, to});
  }
  if (!made.ok()) {
    if (!missing && made.error().message != "not built")
      r.Fail(node, fmt::format("channel {} ({}): {}", name, type, made.error().message));
    return;
  }
  channel.notifier = std::shared_ptr<const Notifier>(std::move(*made));
  config.channels[name] = std::move(channel);
}

void ReadPerson(Reader& r, const std::string& id, const YAML::Node& node, PagingConfig& config) {
  Person person;
  person.id = id;
  if (!r.Map(node, "person " + id, {"name", "contacts"})) return;
  if (node["name"]) r.String(node["name"], "name", person.name);
  if (person.name.empty()) person.name = id;
  if (!node["contacts"] || !node["contacts"].IsSequence() || node["contacts"].size() == 0) {
    r.Fail(node,
           fmt::format("person {}: 'contacts' must list at least one {{channel, mention}}", id));
  } else {
    for (const YAML::Node& c : node["contacts"]) {
      if (!r.Map(c, "contact", {"channel", "mention"})) continue;
      Contact contact;
      if (!c["channel"]) {
        r.Fail(c, fmt::format("person {}: a contact needs 'channel'", id));
        continue;
      }
      r.String(c["channel"], "channel", contact.channel);
      if (c["mention"]) r.String(c["mention"], "mention", contact.mention);
      if (!config.channels.contains(contact.channel)) {
        r.Fail(c["channel"], fmt::format("person {}: no channel named '{}'", id, contact.channel));
      }
      person.contacts.push_back(std::move(contact));
    }
  }
  config.people[id] = std::move(person);
}

void ReadRole(Reader& r, const std::string& id, const YAML::Node& node,
              const TimeZone& default_zone, PagingConfig& config) {
  RoleSchedule role;
  role.role = id;
  if (!r.Map(node, "role " + id, {"members", "rotation", "overrides", "quiet_hours", "time_zone"}))
    return;
  TimeZone zone = default_zone;
  if (node["time_zone"]) r.Zone(node["time_zone"], "time_zone", zone);
  if (node["members"]) r.StringList(node["members"], "members", role.members);
  if (role.members.empty())
    r.Fail(node, fmt::format("role {}: 'members' must name at least one person", id));
  for (size_t i = 0; i < role.members.size(); ++i) {
    if (!config.people.contains(role.members[i])) {
      r.Fail(node["members"], fmt::format("role {}: no person named '{}'", id, role.members[i]));
    }
  }
  if (const YAML::Node rot = node["rotation"]) {
    if (r.Map(rot, "rotation", {"every", "start", "time_zone"})) {
      Rotation rotation;
      rotation.members = role.members;
      rotation.zone = zone;
      std::string every = "week";
      if (rot["every"]) r.String(rot["every"], "every", every);
      if (every == "week" || every == "weekly") {
        rotation.period = Rotation::Period::kWeekly;
      } else if (every == "day" || every == "daily") {
        rotation.period = Rotation::Period::kDaily;
      } else {
        r.Fail(rot["every"], fmt::format("rotation.every must be day or week, not '{}'", every));
      }
      if (rot["time_zone"]) r.Zone(rot["time_zone"], "time_zone", rotation.zone);
      std::string start;
      if (!rot["start"]) {
        r.Fail(rot, "rotation.start is required: the first hand-over, e.g. \"2026-11-02 09:00\"");
      } else if (r.String(rot["start"], "start", start)) {
        auto local = ParseLocalDateTime(start);
        if (!local.ok()) {
          r.Fail(rot["start"], "rotation.start: " + local.error().message);
        } else {
          rotation.start_local_ms = *local;
        }
      }
      role.rotation = std::move(rotation);
    }
  }
  if (const YAML::Node overrides = node["overrides"]) {
    if (!overrides.IsSequence())
      r.Fail(overrides, "overrides must be a list of {person, from, until}");
    for (const YAML::Node& o : overrides) {
      if (!r.Map(o, "override", {"person", "from", "until"})) continue;
      Override entry;
      std::string from, until;
      if (!o["person"] || !o["from"] || !o["until"]) {
        r.Fail(o, "an override needs person, from and until");
        continue;
      }
      r.String(o["person"], "person", entry.person);
      if (!config.people.contains(entry.person))
        r.Fail(o["person"], fmt::format("override: no person named '{}'", entry.person));
      r.String(o["from"], "from", from);
      r.String(o["until"], "until", until);
      auto f = ParseLocalDateTime(from), u = ParseLocalDateTime(until);
      if (!f.ok()) r.Fail(o["from"], "override from: " + f.error().message);
      if (!u.ok()) r.Fail(o["until"], "override until: " + u.error().message);
      if (f.ok() && u.ok()) {
        entry.from_ms = zone.ToUtcMs(*f);
        entry.until_ms = zone.ToUtcMs(*u);
        if (entry.until_ms <= entry.from_ms)
          r.Fail(o["until"], "override: until must be after from");
      }
      role.overrides.push_back(std::move(entry));
    }
  }
  if (const YAML::Node q = node["quiet_hours"]) {
    if (r.Map(q, "quiet_hours", {"from", "to", "days", "pages_at"})) {
      QuietHours quiet;
      quiet.zone = zone;
      std::string text;
      for (const char* key : {"from", "to"}) {
        if (!q[key]) {
          r.Fail(q, fmt::format("quiet_hours.{} is required (e.g. \"22:00\")", key));
          continue;
        }
        if (!r.String(q[key], key, text)) continue;
        auto minute = ParseClockTime(text);
        if (!minute.ok()) {
          r.Fail(q[key], fmt::format("quiet_hours.{}: {}", key, minute.error().message));
        } else {
          (std::string_view(key) == "from" ? quiet.from_minute : quiet.to_minute) = *minute;
        }
      }
      if (q["days"]) {
        static const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};
        std::vector<std::string> days;
        r.StringList(q["days"], "days", days);
        for (const std::string& day : days) {
          auto it = std::find(kDays.begin(), kDays.end(), day);
          if (it == kDays.end()) {
            r.Fail(q["days"], fmt::format("quiet_hours.days: '{}' is not one of mon..sun", day));
          } else {
            quiet.weekdays.push_back(static_cast<int>(it - kDays.begin()));
          }
        }
      }
      if (q["pages_at"]) r.Severity(q["pages_at"], "quiet_hours.pages_at", quiet.min_severity);
      role.quiet_hours = std::move(quiet);
    }
  }
  config.roles[id] = std::move(role);
}

void ReadPolicy(Reader& r, const std::string& name, const YAML::Node& node, PagingConfig& config) {
  EscalationPolicy policy;
  policy.name = name;
  policy.levels.clear();
  if (!r.Map(node, "policy " + name, {"levels", "repeat_last", "renotify_every"})) return;
  if (!node["levels"] || !node["levels"].IsSequence() || node["levels"].size() == 0) {
    r.Fail(node, fmt::format("policy {}: 'levels' must list at least one level", name));
    return;
  }
  for (const YAML::Node& l : node["levels"]) {
    if (!r.Map(l, "level", {"notify", "ack_within"})) continue;
    EscalationLevel level;
    if (!l["notify"])
      r.Fail(l, "a level needs 'notify': owner, role:<id> or person:<id>");
    else
      r.StringList(l["notify"], "notify", level.notify);
    for (const std::string& target : level.notify) {
      const bool ok = target == "owner" ||
                      (target.starts_with("role:") && config.roles.contains(target.substr(5))) ||
                      (target.starts_with("person:") && config.people.contains(target.substr(7)));
      if (!ok) {
        r.Fail(l["notify"],
               fmt::format("policy {}: '{}' is not owner, a role:<id> or a person:<id> "
                           "defined in this file",
                           name, target));
      }
    }
    if (l["ack_within"]) r.Duration(l["ack_within"], "ack_within", level.ack_within);
    policy.levels.push_back(std::move(level));
  }
  if (node["repeat_last"]) r.Int(node["repeat_last"], "repeat_last", 0, 1000, policy.repeat_last);
  if (node["renotify_every"])
    r.Duration(node["renotify_every"], "renotify_every", policy.renotify_every);
  if (policy.renotify_every.count() > 0 && policy.renotify_every < std::chrono::minutes(1)) {
    r.Fail(node["renotify_every"], "renotify_every: at least 1m (a page storm helps nobody)");
  }
  config.policies[name] = std::move(policy);
}

void ReadRoute(Reader& r, const YAML::Node& node, PagingConfig& config) {
  Route route;
  route.where = {r.file_, node.Mark().line + 1, node.Mark().column + 1};
  if (!r.Map(node, "route", {"match", "policy"})) return;
  if (!node["policy"] || !r.String(node["policy"], "policy", route.policy)) {
    r.Fail(node, "a route needs 'policy'");
    return;
  }
  if (!config.policies.contains(route.policy))
    r.Fail(node["policy"], fmt::format("route: no policy named '{}'", route.policy));
  if (const YAML::Node m = node["match"]) {
    if (!r.Map(m, "match", {"category", "severity", "severity_at_least", "owner", "rule", "tags"}))
      return;
    std::vector<std::string> values;
    if (m["category"] && r.StringList(m["category"], "category", values)) {
      for (const std::string& v : values) {
        if (auto c = rules::ParseCategory(v))
          route.match.categories.push_back(*c);
        else
          r.Fail(m["category"], fmt::format("match.category: unknown category '{}'", v));
      }
    }
    values.clear();
    if (m["severity"] && r.StringList(m["severity"], "severity", values)) {
      for (const std::string& v : values) {
        if (auto s = rules::ParseSeverity(v))
          route.match.severities.push_back(*s);
        else
          r.Fail(m["severity"], fmt::format("match.severity: unknown severity '{}'", v));
      }
    }
    if (m["severity_at_least"]) {
      rules::Severity floor{};
      if (r.Severity(m["severity_at_least"], "match.severity_at_least", floor))
        route.match.severity_at_least = floor;
    }
    if (m["owner"]) r.StringList(m["owner"], "owner", route.match.owners);
    if (m["rule"]) r.StringList(m["rule"], "rule", route.match.rules);
    if (m["tags"]) r.StringList(m["tags"], "tags", route.match.tags);
  }
  config.routes.push_back(std::move(route));
}

}  // namespace

Result<std::shared_ptr<const PagingConfig>> ParsePagingConfig(const std::string& yaml,
                                                              const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return Error{fmt::format("{}:{}:{}: {}", file_name, e.mark.line + 1, e.mark.column + 1, e.msg)};
  }
  auto config = std::make_shared<PagingConfig>();
  Reader r(file_name);
  if (root.IsNull()) return std::shared_ptr<const PagingConfig>(config);
  if (!r.Map(root, "the paging file",
             {"public_url", "time_zone", "channels", "people", "roles", "policies", "routes",
              "dead_letter_channel"})) {
    return Error{fmt::format("{}", fmt::join(r.errors(), "\n"))};
  }
  // The order matters: later sections refer to earlier ones.
  TimeZone zone = TimeZone::Utc();
  if (root["time_zone"]) r.Zone(root["time_zone"], "time_zone", zone);
  if (root["public_url"]) r.String(root["public_url"], "public_url", config->public_url);
  while (!config->public_url.empty() && config->public_url.back() == '/')
    config->public_url.pop_back();
  auto each = [&](const char* section, auto&& read) {
    const YAML::Node node = root[section];
    if (!node) return;
    if (!node.IsMap()) {
      r.Fail(node, fmt::format("{} must be a mapping of names", section));
      return;
    }
    for (const auto& item : node) read(item.first.as<std::string>(""), item.second);
  };
  each("channels",
       [&](const std::string& n, const YAML::Node& v) { ReadChannel(r, n, v, *config); });
  for (const auto& [name, channel] : config->channels) {
    if (!channel.failover.empty() &&
        (channel.failover == name || !config->channels.contains(channel.failover))) {
      r.Fail(
          root["channels"][name]["failover"],
          fmt::format("channel {}: failover '{}' is not another channel", name, channel.failover));
    }
  }
  if (root["dead_letter_channel"] &&
      r.String(root["dead_letter_channel"], "dead_letter_channel", config->dead_letter_channel) &&
      !config->channels.contains(config->dead_letter_channel)) {
    r.Fail(root["dead_letter_channel"],
           fmt::format("dead_letter_channel: no channel named '{}'", config->dead_letter_channel));
  }
  each("people", [&](const std::string& n, const YAML::Node& v) { ReadPerson(r, n, v, *config); });
  each("roles",
       [&](const std::string& n, const YAML::Node& v) { ReadRole(r, n, v, zone, *config); });
  each("policies",
       [&](const std::string& n, const YAML::Node& v) { ReadPolicy(r, n, v, *config); });
  if (const YAML::Node routes = root["routes"]) {
    if (!routes.IsSequence()) {
      r.Fail(routes, "routes must be a list of {match, policy}");
    } else {
      for (const YAML::Node& route : routes) ReadRoute(r, route, *config);
    }
  }
  if (!r.errors().empty()) return Error{fmt::format("{}", fmt::join(r.errors(), "\n"))};
  return std::shared_ptr<const PagingConfig>(config);
}

Result<std::shared_ptr<const PagingConfig>> LoadPagingConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{path + ": cannot read the paging file"};
  std::stringstream text;
  text << in.rdbuf();
  return ParsePagingConfig(text.str(), path);
}

}  // namespace vigil::alerts
