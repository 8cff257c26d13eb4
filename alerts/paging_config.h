// Who is paged, how and when: the paging configuration (YAML, see docs/paging.md).
// Channels (one configured destination each: a WeCom robot, a DingTalk robot, an SMTP
// relay ...), people with their contacts on those channels, roles with members, on-call
// rotation, overrides and quiet hours, escalation policies, and routes that choose a
// policy for an incident by category, severity, owner, rule and tags.
//
// Loaded once at start, validated as a whole (every problem reported with file:line:col),
// then immutable and shared; thread-safe to read.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerts/escalation.h"
#include "alerts/incident.h"
#include "alerts/notifier.h"
#include "alerts/oncall.h"
#include "alerts/smtp_sender.h"
#include "core/result.h"

namespace vigil::alerts {

struct ChannelConfig {
  std::string name;
  std::string
      type;  // webhook | slack | pagerduty | alertmanager | wecom | dingtalk | feishu | email
  // Messages per minute this destination accepts (robots: about 20); 0: no limit. When it
  // is spent, pending pages are folded into one digest, or sent to `failover`.
  int budget_per_minute = 0;
  std::string failover;  // another channel's name; empty: wait for the budget
  std::shared_ptr<const Notifier> notifier;
  // E-mail only: the fixed recipients; people's addresses are added per message.
  std::vector<std::string> email_to;
  std::string email_smtp_url, email_from;
  SmtpSenderConfig smtp;  // login, STARTTLS, CA file
  Location where;
};

// How one person is reached on one channel. `mention` is what the channel needs to
// address them: a WeCom user id or mobile, a DingTalk mobile, a Feishu open_id, a Slack
// "<@U…>", an e-mail address; empty: the message goes to the channel unaddressed.
struct Contact {
  std::string channel;
  std::string mention;
};

struct Person {
  std::string id;
  std::string name;
  std::vector<Contact> contacts;
};

struct RouteMatch {
  std::vector<rules::Category> categories;  // any of; empty: any
  std::vector<rules::Severity> severities;  // any of; empty: any
  std::optional<rules::Severity> severity_at_least;
  std::vector<std::string> owners;  // any of
  std::vector<std::string> rules;   // patterns with '*'; any of
  std::vector<std::string> tags;    // the rule has at least one of them

  bool Matches(const Incident& incident) const;
};

struct Route {
  RouteMatch match;
  std::string policy;
  Location where;
};

struct PagingConfig {
  std::string public_url;  // links in pages: <public_url>/api/v1/incidents/<id>
  std::map<std::string, ChannelConfig> channels;
  std::map<std::string, Person> people;
  std::map<std::string, RoleSchedule> roles;
  std::map<std::string, EscalationPolicy> policies;
  std::vector<Route> routes;  // first match wins; then the policy named "default"
  // Where Vigil says that a page could not be delivered (it went dead); empty: the log
  // and the metrics only.
  std::string dead_letter_channel;

  // The first matching route's policy, else "default", else null (page the owner once).
  const EscalationPolicy* PolicyFor(const Incident& incident) const;
};

// Reads and checks a paging file. The error holds every problem, one per line, each
// "file:line:col: message".
Result<std::shared_ptr<const PagingConfig>> LoadPagingConfig(const std::string& path);
Result<std::shared_ptr<const PagingConfig>> ParsePagingConfig(const std::string& yaml,
                                                              const std::string& file_name);

// With no paging file: no channels, nobody to page; decisions are recorded and logged.
std::shared_ptr<const PagingConfig> EmptyPagingConfig();

}  // namespace vigil::alerts
