// vigilctl silences list | add | expire
#include <fmt/format.h>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include "daemon/vigilctl/commands.h"

namespace vigil::ctl {
namespace {

using nlohmann::ordered_json;

// "rule=privacy.* community=拾光吧"; a value with a space is quoted.
std::string DescribeMatchers(const ordered_json& matchers) {
  if (!matchers.is_object()) return "-";
  std::string out;
  for (const auto& [key, value] : matchers.items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (text.empty() || text.find(' ') != std::string::npos) text = "\"" + text + "\"";
    out += (out.empty() ? "" : " ") + key + "=" + text;
  }
  return out.empty() ? "-" : out;
}

void PrintSilence(const ordered_json& silence, std::string_view done, int64_t now_ms) {
  const int64_t starts_ms = JsonInt(silence, "starts_ms");
  std::string span = JsonText(silence, "state");
  if (starts_ms > now_ms) span += " from " + FormatWhen(starts_ms, now_ms);
  span += " until " + FormatWhen(JsonInt(silence, "ends_ms"), now_ms);
  const auto matchers = silence.find("matchers");
  fmt::print("silence {} {}: {}, {}\n", Printable(JsonText(silence, "id")), done,
             Printable(matchers != silence.end() ? DescribeMatchers(*matchers) : "-"),
             Printable(span));
}

}  // namespace

int SilencesList(const SilencesOptions& options) {
  auto client = ClientFor(options.api);
  if (!client) return 1;
  boost::urls::url target("/api/v1/silences");
  if (!options.state.empty()) target.params().append({"state", options.state});
  const auto body = ExpectJson(client->Get(target.buffer()), "silences");
  if (!body) return 1;
  if (options.api.format == "json") {
    PrintJson(*body);
    return 0;
  }
  const auto silences = body->find("silences");
  if (silences == body->end() || !silences->is_array()) {
    fmt::print(stderr, "vigilctl: silences: the answer has no \"silences\" list\n");
    return 1;
  }
  if (silences->empty()) {
    fmt::print("no silences\n");
    return 0;
  }
  const int64_t now_ms = NowMs();
  TextTable table({"ID", "STATE", "MATCHERS", "STARTS", "ENDS", "AUTHOR", "COMMENT"});
  table.RightAlign(0);
  for (const ordered_json& s : *silences) {
    const auto matchers = s.find("matchers");
    const int64_t starts_ms = JsonInt(s, "starts_ms");
    table.AddRow({JsonText(s, "id"), JsonText(s, "state"),
                  matchers != s.end() ? DescribeMatchers(*matchers) : "-",
                  starts_ms > 0 ? FormatLocalTime(starts_ms) : "-",
                  FormatWhen(JsonInt(s, "ends_ms"), now_ms), JsonText(s, "author"),
                  JsonText(s, "comment")});
  }
  table.Print(stdout);
  return 0;
}

int SilencesAdd(const SilencesOptions& options) {
  // The matchers' shape was checked while parsing; a key given twice is a usage error.
  ordered_json matchers = ordered_json::object();
  for (const std::string& matcher : options.matchers) {
    const size_t equals = matcher.find('=');
    const std::string key = matcher.substr(0, equals);
    if (matchers.contains(key)) {
      fmt::print(stderr, "vigilctl: --match {}: {} is given twice\n", matcher, key);
      return 2;
    }
    matchers[key] = matcher.substr(equals + 1);
  }
  const int64_t now_ms = NowMs();
  std::optional<int64_t> starts_ms, ends_ms;
  if (!options.starts.empty()) starts_ms = ParseTimeMs(options.starts);
  if (!options.until.empty()) ends_ms = ParseTimeMs(options.until);
  if (!options.duration.empty()) {
    if (const auto duration_ms = ParseDurationMs(options.duration)) {
      ends_ms = starts_ms.value_or(now_ms) + *duration_ms;
    }
  }
  if ((!options.starts.empty() && !starts_ms) ||
      ((!options.until.empty() || !options.duration.empty()) && !ends_ms)) {
    fmt::print(stderr, "vigilctl: silences add: a bad time in --starts, --until or --for\n");
    return 2;
  }
  if (ends_ms && *ends_ms <= starts_ms.value_or(now_ms)) {
    fmt::print(stderr, "vigilctl: --until {}: the silence would end before it starts\n",
               options.until);
    return 1;
  }

  // ends_ms is computed here rather than sent as "duration" so that --for means the same
  // with or without --starts.
  ordered_json request = {{"matchers", matchers}, {"comment", options.comment}};
  if (!options.api.actor.empty()) request["author"] = options.api.actor;
  if (starts_ms) request["starts_ms"] = *starts_ms;
  if (ends_ms) request["ends_ms"] = *ends_ms;

  auto client = ClientFor(options.api);
  if (!client) return 1;
  const auto silence =
      ExpectJson(client->Post("/api/v1/silences",
                              request.dump(-1, ' ', false, ordered_json::error_handler_t::replace)),
                 "silences add");
  if (!silence) return 1;
  if (options.api.format == "json") {
    PrintJson(*silence);
  } else {
    PrintSilence(*silence, "added", NowMs());
  }
  return 0;
}

int SilencesExpire(const SilencesOptions& options) {
  auto client = ClientFor(options.api);
  if (!client) return 1;
  bool failed = false;
  for (const int64_t id : options.ids) {
    const auto answer = client->Delete(fmt::format("/api/v1/silences/{}", id));
    const auto silence = ExpectJson(answer, fmt::format("silence {}", id));
    if (!silence) {
      failed = true;
      if (!answer.ok()) break;  // no server, no point in trying the others
      continue;
    }
    if (options.api.format == "json") {
      PrintJson(*silence);
    } else {
      fmt::print("silence {} expired\n", id);
    }
  }
  return failed ? 1 : 0;
}

}  // namespace vigil::ctl
