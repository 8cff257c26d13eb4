// The schema of vigild's configuration: one table entry per key, the typed parsers the
// entries use, and the suggestions for unknown keys.
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

#include "daemon/lib/config.h"

namespace vigil::daemon {

namespace {

using Apply = std::function<std::string(const ConfigValue&, std::string_view, Config&)>;
using Show = std::function<std::string(const Config&)>;

// What a key is, short of its name and description.
struct Field {
  std::string type;
  Apply apply;
  Show show;
  bool takes_subkeys = false;
  std::function<std::string(std::string_view)> check_subkey;
};

ConfigKey Key(std::string key, Field field, std::string description) {
  return ConfigKey{std::move(key),
                   std::move(field.type),
                   std::move(description),
                   field.takes_subkeys,
                   std::move(field.apply),
                   std::move(field.show),
                   std::move(field.check_subkey)};
}

std::string Expected(std::string_view what, const ConfigValue& value) {
  return fmt::format("expected {}, got {}", what, value.got);
}

bool IsScalar(const ConfigValue& value) { return value.shape == ConfigValue::Shape::kScalar; }

// A field read through `access` (a generic lambda returning a reference to it), parsed by
// `parse(value, T&) -> problem` and shown by `show(const T&) -> text`.
template <typename Access, typename Parse, typename ShowValue>
Field Typed(std::string type, Access access, Parse parse, ShowValue show) {
  Field field;
  field.type = std::move(type);
  field.apply = [access, parse](const ConfigValue& value, std::string_view, Config& config) {
    std::remove_cvref_t<decltype(access(config))> parsed{};
    std::string problem = parse(value, parsed);
    if (problem.empty()) access(config) = std::move(parsed);
    return problem;
  };
  field.show = [access, show](const Config& config) { return show(access(config)); };
  return field;
}

// Whole number made of digits and an optional leading '-'; nothing else.
template <typename Number>
bool ParseWhole(std::string_view text, Number& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

template <typename Access>
Field Integer(Access access, long long min, long long max) {
  const std::string what = fmt::format("an integer from {} to {}", min, max);
  return Typed(
      "integer", access,
      [what, min, max](const ConfigValue& value, auto& out) -> std::string {
        long long n = 0;
        if (!IsScalar(value) || !ParseWhole(value.text(), n) || n < min || n > max) {
          return Expected(what, value);
        }
        out = static_cast<std::remove_reference_t<decltype(out)>>(n);
        return {};
      },
      [](const auto& n) { return std::to_string(n); });
}

// Splits "16MiB" / "30 s" into its number and unit; false when the number is missing.
bool SplitQuantity(std::string_view text, unsigned long long& number, std::string_view& unit) {
  const size_t digits = std::min(text.find_first_not_of("0123456789"), text.size());
  if (digits == 0 || !ParseWhole(text.substr(0, digits), number)) return false;
  unit = text.substr(digits);
  if (unit.starts_with(' ')) unit.remove_prefix(1);
  return true;
}

struct Unit {
  std::string_view name;
  unsigned long long factor;
};

constexpr unsigned long long kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
constexpr Unit kSizeUnits[] = {{"GiB", kGiB},   {"MiB", kMiB}, {"KiB", kKiB}, {"GB", 1000000000},
                               {"MB", 1000000}, {"KB", 1000},  {"B", 1},      {"", 1}};
constexpr Unit kSizeDisplayUnits[] = {{"GiB", kGiB}, {"MiB", kMiB}, {"KiB", kKiB}, {"", 1}};
constexpr Unit kDurationUnits[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};

// Number times unit, or nullopt when the text is not "<digits>[ ]<unit>" or overflows.
template <size_t N>
std::optional<unsigned long long> Quantity(std::string_view text, const Unit (&units)[N]) {
  unsigned long long number = 0;
  std::string_view unit;
  if (!SplitQuantity(text, number, unit)) return std::nullopt;
  for (const Unit& u : units) {
    if (u.name != unit) continue;
    if (number > ~0ULL / u.factor) return std::nullopt;
    return number * u.factor;
  }
  return std::nullopt;
}

// In the largest unit that divides it: 16777216 -> "16MiB", 30000 (ms) -> "30s".
template <size_t N>
std::string FormatQuantity(unsigned long long n, const Unit (&units)[N]) {
  for (const Unit& u : units) {
    if (n % u.factor == 0 && (n != 0 || u.factor == 1))
      return fmt::format("{}{}", n / u.factor, u.name);
  }
  return std::to_string(n);
}

template <typename Access>
Field Size(Access access, size_t min, size_t max) {
  const std::string range =
      fmt::format("a size from {} to {}", FormatQuantity(min, kSizeDisplayUnits),
                  FormatQuantity(max, kSizeDisplayUnits));
  return Typed(
      "size", access,
      [range, min, max](const ConfigValue& value, size_t& out) -> std::string {
        const auto bytes = IsScalar(value) ? Quantity(value.text(), kSizeUnits) : std::nullopt;
        if (!bytes) return Expected("a size such as 4096, 64KiB or 16MiB", value);
        if (*bytes < min || *bytes > max) return Expected(range, value);
        out = size_t(*bytes);
        return {};
      },
      [](size_t n) { return FormatQuantity(n, kSizeDisplayUnits); });
}

template <typename Access>
Field Duration(Access access, std::chrono::milliseconds min, std::chrono::milliseconds max) {
  const std::string range =
      fmt::format("a duration from {} to {}", FormatQuantity(min.count(), kDurationUnits),
                  FormatQuantity(max.count(), kDurationUnits));
  return Typed(
      "duration", access,
      [range, min, max](const ConfigValue& value, std::chrono::milliseconds& out) -> std::string {
        const auto ms = IsScalar(value) ? Quantity(value.text(), kDurationUnits) : std::nullopt;
        if (!ms) return Expected("a duration such as 500ms, 30s or 10m", value);
        if (*ms < (unsigned long long)min.count() || *ms > (unsigned long long)max.count()) {
          return Expected(range, value);
        }
        out = std::chrono::milliseconds(*ms);
        return {};
      },
      [](std::chrono::milliseconds ms) { return FormatQuantity(ms.count(), kDurationUnits); });
}

template <typename Access>
Field Number(Access access, double max) {
  const std::string what = fmt::format("a number above 0 and at most {}", max);
  return Typed(
      "number", access,
      [what, max](const ConfigValue& value, double& out) -> std::string {
        double n = 0;
        if (!IsScalar(value)) return Expected(what, value);
        const std::string& text = value.text();
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
            !std::isfinite(n) || n <= 0 || n > max) {
          return Expected(what, value);
        }
        out = n;
        return {};
      },
      [](double n) { return fmt::format("{}", n); });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

// YAML 1.1's booleans, as yaml-cpp reads them.
template <typename Access>
Field Bool(Access access) {
  return Typed(
      "bool", access,
      [](const ConfigValue& value, bool& out) -> std::string {
        const std::string text = IsScalar(value) ? Lower(value.text()) : "";
        if (text == "true" || text == "yes" || text == "on" || text == "y") {
          out = true;
        } else if (text == "false" || text == "no" || text == "off" || text == "n") {
          out = false;
        } else {
          return Expected("true or false", value);
        }
        return {};
      },
      [](bool b) { return std::string(b ? "true" : "false"); });
}

std::string ShowString(const std::string& s) { return s.empty() ? "\"\"" : s; }

// A string; `allow_empty` also lets an absent value (`key:` with nothing) mean "".
template <typename Access>
Field String(Access access, bool allow_empty) {
  return Typed(
      "string", access,
      [allow_empty](const ConfigValue& value, std::string& out) -> std::string {
        if (value.shape == ConfigValue::Shape::kNull && allow_empty) return {};
        if (!IsScalar(value))
          return Expected(allow_empty ? "a string" : "a non-empty string", value);
        if (value.text().empty() && !allow_empty) return Expected("a non-empty string", value);
        out = value.text();
        return {};
      },
      ShowString);
}

// A string never shown: the reference and DescribeConfig print "****" when it is set.
template <typename Access>
Field Secret(Access access) {
  Field field = String(access, true);
  field.type = "secret";
  field.show = [access](const Config& config) {
    return access(config).empty() ? ShowString("") : std::string("\"****\"");
  };
  return field;
}

template <typename Access>
Field Enum(Access access, std::vector<std::string> choices) {
  const std::string what = fmt::format("one of {}", fmt::join(choices, ", "));
  return Typed(
      fmt::format("{}", fmt::join(choices, "|")), access,
      [what, choices](const ConfigValue& value, std::string& out) -> std::string {
        if (!IsScalar(value) ||
            std::find(choices.begin(), choices.end(), value.text()) == choices.end()) {
          return Expected(what, value);
        }
        out = value.text();
        return {};
      },
      ShowString);
}

// Kafka's rule for topic names.
template <typename Access>
Field Topic(Access access) {
  return Typed(
      "string", access,
      [](const ConfigValue& value, std::string& out) -> std::string {
        const bool legal =
            IsScalar(value) && !value.text().empty() && value.text().size() <= 249 &&
            value.text() != "." && value.text() != ".." &&
            std::all_of(value.text().begin(), value.text().end(), [](unsigned char c) {
              return std::isalnum(c) || c == '.' || c == '_' || c == '-';
            });
        if (!legal) return Expected("a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)", value);
        out = value.text();
        return {};
      },
      ShowString);
}

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// Comma-separated items, trimmed, empty ones dropped.
std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> items;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

template <typename Access>
Field Brokers(Access access) {
  return Typed(
      "string", access,
      [](const ConfigValue& value, std::string& out) -> std::string {
        const std::vector<std::string> brokers =
            IsScalar(value) ? SplitCommas(value.text()) : std::vector<std::string>{};
        const bool spaced = std::any_of(brokers.begin(), brokers.end(), [](const std::string& b) {
          return b.find_first_of(" \t") != std::string::npos;
        });
        if (brokers.empty() || spaced) {
          return Expected("\"embedded\" or a comma-separated list of host:port", value);
        }
        out = fmt::format("{}", fmt::join(brokers, ","));
        return {};
      },
      ShowString);
}

// A YAML list of strings, or one comma-separated string.
template <typename Access>
Field PathList(Access access) {
  return Typed(
      "list", access,
      [](const ConfigValue& value, std::vector<std::string>& out) -> std::string {
        if (value.shape == ConfigValue::Shape::kScalar) {
          out = SplitCommas(value.text());
        } else if (value.shape == ConfigValue::Shape::kList) {
          out = value.items;
          if (std::any_of(out.begin(), out.end(), [](const std::string& s) { return s.empty(); })) {
            return Expected("a list of files or folders", value);
          }
        }
        if (out.empty()) return Expected("a file or folder, or a list of them", value);
        return {};
      },
      [](const std::vector<std::string>& paths) {
        return fmt::format("{}", fmt::join(paths, ","));
      });
}

// http.tokens: a list of {name, role, token | sha256}. The shape is checked here; roles,
// lengths and duplicates with the tokens file are checked together at start (auth.h).
Field Tokens() {
  Field field;
  field.type = "list of {name, role, token}";
  field.apply = [](const ConfigValue& value, std::string_view, Config& config) -> std::string {
    if (value.shape == ConfigValue::Shape::kNull ||
        (value.shape == ConfigValue::Shape::kList && value.items.empty())) {
      config.http.tokens.clear();
      return {};
    }
    if (value.shape != ConfigValue::Shape::kRecords) {
      return Expected("a list of {name, role, token} (set in the file, not with --set)", value);
    }
    std::vector<TokenEntry> tokens;
    std::vector<std::string> problems;
    for (size_t i = 0; i < value.records.size(); ++i) {
      TokenEntry entry;
      entry.where = value.record_at[i].ToString();
      for (const auto& [name, text] : value.records[i]) {
        if (name == "name") {
          entry.name = text;
        } else if (name == "role") {
          entry.role = text;
        } else if (name == "token") {
          entry.token = text;
        } else if (name == "sha256") {
          entry.sha256 = text;
        } else {
          problems.push_back(
              fmt::format("{}: unknown field (name, role, token, sha256) in the entry at line {}",
                          name, value.record_at[i].line));
        }
      }
      tokens.push_back(std::move(entry));
    }
    if (!problems.empty()) return fmt::format("{}", fmt::join(problems, "; "));
    config.http.tokens = std::move(tokens);
    return {};
  };
  // Names and roles only: a token is never shown.
  field.show = [](const Config& config) {
    std::vector<std::string> items;
    for (const TokenEntry& t : config.http.tokens) items.push_back(t.name + " (" + t.role + ")");
    return fmt::format("[{}]", fmt::join(items, ", "));
  };
  return field;
}

// http.open_endpoints: a subset of the three endpoints that may be served without a token.
#define VIGIL_OPEN_ENDPOINTS \
  [](auto& c) -> auto& { return c.http.open_endpoints; }
Field OpenEndpoints() {
  static const std::vector<std::string> kAllowed = {"/healthz", "/readyz", "/metrics"};
  return Typed(
      "list", VIGIL_OPEN_ENDPOINTS,
      [](const ConfigValue& value, std::vector<std::string>& out) -> std::string {
        if (value.shape == ConfigValue::Shape::kNull) return {};
        if (value.shape == ConfigValue::Shape::kScalar) {
          out = value.text().empty() ? std::vector<std::string>{} : SplitCommas(value.text());
        } else if (value.shape == ConfigValue::Shape::kList) {
          out = value.items;
        } else {
          return Expected("a list of /healthz, /readyz, /metrics", value);
        }
        for (const std::string& path : out) {
          if (std::find(kAllowed.begin(), kAllowed.end(), path) == kAllowed.end()) {
            return fmt::format(
                "only /healthz, /readyz and /metrics may be served without a token, got \"{}\"",
                path);
          }
        }
        return {};
      },
      [](const std::vector<std::string>& paths) {
        return fmt::format("[{}]", fmt::join(paths, ", "));
      });
}
#undef VIGIL_OPEN_ENDPOINTS

// http.listen: sets http.host and http.port together.
Field Listen() {
  Field field;
  field.type = "host:port";
  field.apply = [](const ConfigValue& value, std::string_view, Config& config) -> std::string {
    const std::string_view what = "host:port such as 127.0.0.1:8080 or [::1]:8080";
    if (!IsScalar(value)) return Expected(what, value);
    const std::string_view text = value.text();
    std::string_view host, port;
    if (text.starts_with('[')) {
      const size_t close = text.find(']');
      if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
        return Expected(what, value);
      }
      host = text.substr(1, close - 1);
      port = text.substr(close + 2);
    } else {
      const size_t colon = text.rfind(':');
      if (colon == std::string_view::npos) return Expected(what, value);
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (host.find(':') != std::string_view::npos) {
        return Expected("host:port with an IPv6 host in brackets, such as [::1]:8080", value);
      }
    }
    if (host.empty() || host.find_first_of(" \t[]/") != std::string_view::npos) {
      return Expected(what, value);
    }
    unsigned number = 0;
    if (!ParseWhole(port, number) || number > 65535) {
      return Expected("host:port with a port from 0 to 65535", value);
    }
    config.http.host = std::string(host);
    config.http.port = uint16_t(number);
    return {};
  };
  field.show = [](const Config& config) { return config.http.listen(); };
  return field;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

// The candidate closest to `name`, if it is close enough to be a likely typo.
std::optional<std::string> Closest(std::string_view name,
                                   const std::vector<std::string>& candidates) {
  const std::string lower = Lower(name);
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(2, name.size() / 5) + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(lower, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

// Every property name this librdkafka knows, read once from its own reference table.
const std::vector<std::string>& RdKafkaPropertyNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    char* text = nullptr;
    size_t size = 0;
    FILE* stream = open_memstream(&text, &size);
    if (stream == nullptr) return out;
    rd_kafka_conf_properties_show(stream);
    std::fclose(stream);
    std::string_view table(text, size);
    while (!table.empty()) {
      const size_t end = std::min(table.find('\n'), table.size());
      const std::string_view name = Trim(table.substr(0, std::min(table.find('|'), end)));
      if (!name.empty() && name != "Property" &&
          name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._") ==
              std::string_view::npos) {
        out.emplace_back(name);
      }
      table.remove_prefix(std::min(end + 1, table.size()));
    }
    std::free(text);
    return out;
  }();
  return names;
}

// Properties vigild sets itself; a value in kafka.properties would fight it.
std::optional<std::string> ManagedProperty(std::string_view name) {
  if (name == "bootstrap.servers" || name == "metadata.broker.list") {
    return "vigild sets it from kafka.brokers; set kafka.brokers instead";
  }
  if (name == "group.id") return "vigild sets it from kafka.group_id; set kafka.group_id instead";
  if (name == "enable.auto.commit" || name == "enable.auto.offset.store") {
    return "vigild manages consumer offsets itself (they are stored with the incident state); "
           "remove it";
  }
  return std::nullopt;
}

bool IsSecretProperty(std::string_view name) {
  return name.find("password") != std::string_view::npos ||
         name.find("secret") != std::string_view::npos ||
         name.find("key.pem") != std::string_view::npos || name == "sasl.jaas.config" ||
         name == "sasl.oauthbearer.config" || name == "ssl_key";
}

// librdkafka opens these files only when it creates a client, and only for the security
// protocol that needs them; checking them with the rest of the configuration names the
// key and file before anything starts (and in `vigild --check`).
std::string UnreadableLocation(std::string_view name, const std::string& path) {
  const bool is_path = name.ends_with(".location") || name == "sasl.kerberos.keytab";
  if (!is_path || path.empty() || (name == "ssl.ca.location" && path == "probe")) return {};
  if (::access(path.c_str(), R_OK) == 0) return {};
  return fmt::format("cannot read {}: {}", path, std::strerror(errno));
}

// kafka.properties.<name>: each checked by librdkafka itself, so a typo or a bad value
// is reported at start with its location rather than when the client is created.
rd_kafka_conf_res_t TryProperty(std::string_view name, const std::string& value,
                                std::string& reason) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char text[512] = "";
  const rd_kafka_conf_res_t result =
      rd_kafka_conf_set(conf, std::string(name).c_str(), value.c_str(), text, sizeof text);
  rd_kafka_conf_destroy(conf);
  reason = text;
  return result;
}

Field KafkaProperties() {
  Field field;
  field.type = "map";
  field.takes_subkeys = true;
  field.check_subkey = [](std::string_view name) -> std::string {
    if (name.empty()) return "expected kafka.properties.<librdkafka property>";
    if (std::optional<std::string> managed = ManagedProperty(name)) return *managed;
    std::string reason;
    // librdkafka looks the name up before it reads the value.
    if (TryProperty(name, "", reason) != RD_KAFKA_CONF_UNKNOWN) return {};
    std::optional<std::string> suggestion = Closest(name, RdKafkaPropertyNames());
    return suggestion ? fmt::format("not a librdkafka property; did you mean {}?", *suggestion)
                      : "not a librdkafka property";
  };
  field.apply = [](const ConfigValue& value, std::string_view name, Config& config) -> std::string {
    if (!IsScalar(value)) return Expected("a string", value);
    std::string reason;
    if (TryProperty(name, value.text(), reason) != RD_KAFKA_CONF_OK) {
      return fmt::format("librdkafka rejects it: {}", reason);
    }
    if (std::string problem = UnreadableLocation(name, value.text()); !problem.empty()) {
      return problem;
    }
    config.kafka.properties[std::string(name)] = value.text();
    return {};
  };
  field.show = [](const Config& config) {
    std::vector<std::string> items;
    for (const auto& [name, value] : config.kafka.properties) {
      items.push_back(fmt::format("{}: {}", name, IsSecretProperty(name) ? "\"****\"" : value));
    }
    return fmt::format("{{{}}}", fmt::join(items, ", "));
  };
  return field;
}

#define VIGIL_FIELD(path) \
  [](auto& c) -> auto& { return c.path; }

std::vector<ConfigKey> BuildSchema() {
  using std::chrono::milliseconds;
  return {
      Key("kafka.brokers", Brokers(VIGIL_FIELD(kafka.brokers)),
          "Kafka bootstrap servers as host:port,host:port; or `embedded` for an in-process "
          "broker (librdkafka's mock cluster) that needs no services."),
      Key("kafka.topics.posts", Topic(VIGIL_FIELD(kafka.topics.posts)),
          "Topic the posts are consumed from."),
      Key("kafka.topics.hits", Topic(VIGIL_FIELD(kafka.topics.hits)),
          "Topic the hits are published to, keyed by incident key."),
      Key("kafka.topics.dlq", Topic(VIGIL_FIELD(kafka.topics.dlq)),
          "Dead-letter topic for messages that are not valid posts, with the reason in a header."),
      Key("kafka.group_id", String(VIGIL_FIELD(kafka.group_id), false),
          "Consumer group; instances that share it share the posts topic's partitions."),
      Key("kafka.embedded_partitions", Integer(VIGIL_FIELD(kafka.embedded_partitions), 1, 1024),
          "Partitions of each topic on the embedded broker (only with `brokers: embedded`)."),
      Key("kafka.properties", KafkaProperties(),
          "librdkafka properties passed through as they are (`security.protocol`, `sasl.*`, "
          "`ssl.*`, ...), one per `kafka.properties.<name>`; checked by librdkafka at start. "
          "Use `${env:NAME}` for secrets. bootstrap.servers, group.id and offset commits are "
          "vigild's own."),
      Key("rules.paths", PathList(VIGIL_FIELD(rules.paths)),
          "Rule files, or folders of them: a list, or one comma-separated string."),
      Key("rules.cache_dir", String(VIGIL_FIELD(rules.cache_dir), true),
          "Where compiled rule databases are cached by content hash; empty: "
          "`<state.dir>/hs-cache`."),
      Key("http.listen", Listen(),
          "Address of the HTTP server (API, /metrics, console): host:port, or [v6]:port; "
          "port 0 picks a free one."),
      Key("http.max_body_bytes", Size(VIGIL_FIELD(http.max_body_bytes), kKiB, kGiB),
          "Largest request body accepted; a bigger one is answered 413."),
      Key("http.max_connections", Integer(VIGIL_FIELD(http.max_connections), 1, 100000),
          "Open HTTP connections allowed at once."),
      Key("http.request_timeout",
          Duration(VIGIL_FIELD(http.request_timeout), milliseconds(1), milliseconds(3600000)),
          "Time allowed to read a request and write its response (for HTTPS, the TLS "
          "handshake too)."),
      Key("http.tokens", Tokens(),
          "API tokens: a list of {name, role, token}; role is viewer, responder, rule-admin, "
          "ingest or admin (docs/security.md). The name is the actor in incidents and the "
          "audit log. Use `${env:NAME}` for the token, or http.tokens_file."),
      Key("http.tokens_file", String(VIGIL_FIELD(http.tokens_file), true),
          "A YAML file listing API tokens as {name, role, token} or {name, role, sha256} (the "
          "SHA-256 of the token in hex, so the file need not hold the secret); read at start and "
          "again on SIGHUP (token rotation)."),
      Key("http.open_endpoints", OpenEndpoints(),
          "Which of /healthz, /readyz and /metrics are served without a token; the others "
          "need viewer or above."),
      Key("http.insecure", Bool(VIGIL_FIELD(http.insecure)),
          "Serve the API without tokens on a listener that is not loopback. Without tokens "
          "vigild refuses such a listener unless this is true; logged at every start."),
      Key("http.tls.cert_file", String(VIGIL_FIELD(http.tls.cert_file), true),
          "PEM certificate of the listener, followed by any intermediates; with "
          "`http.tls.key_file` the listener serves HTTPS only (TLS 1.2 or later). Empty: plain "
          "HTTP. Read again on SIGHUP (docs/tls.md)."),
      Key("http.tls.key_file", String(VIGIL_FIELD(http.tls.key_file), true),
          "PEM private key (unencrypted) of `http.tls.cert_file`; keep it readable by vigild "
          "only."),
      Key("http.tls.client_ca_file", String(VIGIL_FIELD(http.tls.client_ca_file), true),
          "PEM CA certificates; when set, every client must present a certificate issued by one "
          "of them (mutual TLS). Empty: no client certificates asked for."),
      Key("pipeline.workers", Integer(VIGIL_FIELD(pipeline.workers), 0, 1024),
          "Matcher threads; 0: one per core."),
      Key("pipeline.queue_capacity", Integer(VIGIL_FIELD(pipeline.queue_capacity), 1, 1000000),
          "Posts in flight between pipeline stages; when it is full, consumption slows down "
          "(nothing is dropped)."),
      Key("pipeline.max_post_bytes", Size(VIGIL_FIELD(pipeline.max_post_bytes), kKiB, 256 * kMiB),
          "Largest post message; a bigger one goes to the dead-letter topic."),
      Key("pipeline.max_json_depth", Integer(VIGIL_FIELD(pipeline.max_json_depth), 1, 1024),
          "Deepest JSON nesting accepted in a post; a deeper one goes to the dead-letter topic."),
      Key("state.dir", String(VIGIL_FIELD(state.dir), false),
          "Directory of the SQLite state store and, by default, of the rule cache."),
      Key("log.level", Enum(VIGIL_FIELD(log.level), {"trace", "debug", "info", "warn", "error"}),
          "Least severe log messages written."),
      Key("log.format", Enum(VIGIL_FIELD(log.format), {"text", "json"}),
          "Log lines as text, or as one JSON object each."),
      Key("log.hit_excerpts", Bool(VIGIL_FIELD(log.hit_excerpts)),
          "Log a line per hit with the rule, the post id and its excerpt, masked values "
          "masked (for debugging rules; always on with demo.feed). Off: no post text is "
          "logged."),
      Key("demo.feed", String(VIGIL_FIELD(demo.feed), true),
          "A JSON Lines file of posts replayed into the posts topic; empty: no demo feed."),
      Key("demo.rate_per_s", Number(VIGIL_FIELD(demo.rate_per_s), 1e6),
          "Posts per second the demo feed is replayed at."),
      Key("demo.loop", Bool(VIGIL_FIELD(demo.loop)), "Start the demo feed over when it ends."),
      Key("connectors.discourse.secret", Secret(VIGIL_FIELD(connectors.discourse.secret)),
          "Secret of the Discourse webhook posting to /api/v1/ingest/discourse (HMAC-SHA256 "
          "signature check); empty: signatures are not checked. Use `${env:NAME}`."),
      Key("alerts.paging", String(VIGIL_FIELD(alerts.paging), true),
          "The paging file: channels, people, roles and on-call, escalation policies, routes "
          "(docs/paging.md); empty: incidents are recorded but nobody is paged."),
      Key("alerts.public_url", String(VIGIL_FIELD(alerts.public_url), true),
          "The address people use to reach this API from a page (links to incidents and "
          "acknowledge links); empty: http://<http.listen>, or https:// with `http.tls.cert_file`. "
          "Overrides the paging file's."),
      Key("alerts.link_secret", Secret(VIGIL_FIELD(alerts.link_secret)),
          "Key that signs acknowledge links in pages; empty: a random key kept in "
          "`<state.dir>/link.key`. Use `${env:NAME}` when several daemons share links."),
      Key("audit.file", String(VIGIL_FIELD(audit.file), true),
          "The audit log (JSON lines: acknowledgements, resolutions, silences, rule reloads, "
          "refused attempts); empty: `<state.dir>/audit.log`."),
      Key("connectors.discourse.community",
          String(VIGIL_FIELD(connectors.discourse.community), true),
          "Community given to every Discourse post; empty: the post's category."),
  };
}

#undef VIGIL_FIELD

std::string Parent(std::string_view key) {
  const size_t dot = key.rfind('.');
  return dot == std::string_view::npos ? "" : std::string(key.substr(0, dot));
}

// Every key and section name ("kafka", "kafka.topics", "kafka.topics.posts", ...).
std::vector<std::string> KnownNames() {
  std::vector<std::string> names;
  for (const ConfigKey& entry : ConfigSchema()) {
    for (std::string name = entry.key; !name.empty(); name = Parent(name)) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  return names;
}

}  // namespace

const std::vector<ConfigKey>& ConfigSchema() {
  static const std::vector<ConfigKey> schema = BuildSchema();
  return schema;
}

std::string UnknownKeyProblem(std::string_view key) {
  const std::vector<std::string> names = KnownNames();
  if (std::optional<std::string> close = Closest(key, names)) {
    return fmt::format("unknown key; did you mean {}?", *close);
  }
  // The same last name in another section ("workers" for "pipeline.workers").
  const std::string leaf(key.substr(key.rfind('.') + 1));
  for (const std::string& name : names) {
    if (name.size() > leaf.size() && name.ends_with("." + leaf)) {
      return fmt::format("unknown key; did you mean {}?", name);
    }
  }
  // Otherwise list what the nearest known section holds.
  std::string section = Parent(key);
  while (!section.empty() && std::find(names.begin(), names.end(), section) == names.end()) {
    section = Parent(section);
  }
  std::vector<std::string> children;
  for (const std::string& name : names) {
    if (Parent(name) == section)
      children.push_back(section.empty() ? name : name.substr(section.size() + 1));
  }
  return section.empty()
             ? fmt::format("unknown key (sections: {})", fmt::join(children, ", "))
             : fmt::format("unknown key ({} has {})", section, fmt::join(children, ", "));
}

}  // namespace vigil::daemon
