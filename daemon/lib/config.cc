// Loading the configuration (the YAML file, then each --set, through the schema table,
// every problem collected with where it is and reported together at the end), and
// rendering it back (DescribeConfig, ConfigReferenceMarkdown).
#include "daemon/lib/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <tuple>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace vigil::daemon {

std::string HttpConfig::listen() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

int PipelineConfig::worker_count() const {
  if (workers > 0) return workers;
  return std::max(1, int(std::thread::hardware_concurrency()));
}

std::string Config::rules_cache_dir() const {
  return rules.cache_dir.empty() ? state.dir + "/hs-cache" : rules.cache_dir;
}

std::string Config::audit_file() const {
  return audit.file.empty() ? state.dir + "/audit.log" : audit.file;
}

std::optional<std::string> LookupProcessEnv(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

namespace {

// Where a value came from, which orders problems: the file by position, then --set in order.
struct Origin {
  enum class Kind { kDefault, kFile, kSet };
  Kind kind = Kind::kDefault;
  Location where;        // kFile
  size_t set_index = 0;  // kSet
  std::string set_key;   // kSet: the key as written

  std::string ToString() const {
    return kind == Kind::kSet ? "--set " + set_key : where.ToString();
  }
  auto Order() const { return std::make_tuple(int(kind), where.line, where.column, set_index); }
};

struct Problem {
  Origin origin;
  std::string text;  // the whole line
};

// A value for messages: "many" in quotes, control characters escaped, long ones cut.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 80;
  std::string out = "\"";
  for (char c : text.substr(0, kMaxShown)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + (text.size() > kMaxShown ? "...\"" : "\"");
}

std::string Describe(const YAML::Node& node) {
  if (node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return Quote(node.Scalar());
}

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

bool IsEnvName(std::string_view name) {
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

// A schema entry and, for an entry that takes subkeys, the subkey ("sasl.mechanisms").
struct Lookup {
  const ConfigKey* entry = nullptr;
  std::string subkey;
};

Lookup Find(std::string_view key) {
  for (const ConfigKey& entry : ConfigSchema()) {
    if (key == entry.key) return {&entry, ""};
    if (entry.takes_subkeys && key.size() > entry.key.size() && key.starts_with(entry.key) &&
        key[entry.key.size()] == '.') {
      return {&entry, std::string(key.substr(entry.key.size() + 1))};
    }
  }
  return {};
}

// A section is a proper prefix of keys: "kafka", "kafka.topics".
const ConfigKey* FirstKeyOfSection(std::string_view section) {
  for (const ConfigKey& entry : ConfigSchema()) {
    if (entry.key.size() > section.size() && entry.key.starts_with(section) &&
        entry.key[section.size()] == '.') {
      return &entry;
    }
  }
  return nullptr;
}

Location MarkOf(const YAML::Node& node, std::string_view file) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return Location{std::string(file), 0, 0};
  return Location{std::string(file), mark.line + 1, mark.column + 1};
}

class Loader {
 public:
  explicit Loader(const EnvLookup& getenv) : getenv_(getenv) {}

  void ReadFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::string text;
    int error = fd < 0 ? errno : 0;
    char buffer[65536];
    while (error == 0) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error = errno;
      if (n <= 0) break;
      text.append(buffer, size_t(n));
    }
    if (fd >= 0) ::close(fd);
    if (error != 0) {
      Report(FileOrigin(Location{path, 0, 0}), "",
             fmt::format("cannot read: {}", std::strerror(error)));
      return;
    }
    ApplyFile(path, text);
  }

  void ApplyFile(std::string_view file, std::string_view text) {
    file_ = file;
    try {
      const YAML::Node root = YAML::Load(std::string(text));
      if (root.IsMap()) {
        WalkMap(root, "");
      } else if (!root.IsNull()) {
        Report(FileOrigin(MarkOf(root, file_)), "",
               "expected a mapping of sections (kafka:, http:, ...), got " + Describe(root));
      }
    } catch (const YAML::Exception& e) {
      const Location where = e.mark.is_null() ? Location{file_, 0, 0}
                                              : Location{file_, e.mark.line + 1, e.mark.column + 1};
      Report(FileOrigin(where), "", "YAML syntax error: " + e.msg);
    }
  }

  void ApplySet(size_t index, std::string_view set) {
    const size_t equals = set.find('=');
    Origin origin{Origin::Kind::kSet, {}, index, std::string(Trim(set.substr(0, equals)))};
    if (equals == std::string_view::npos || origin.set_key.empty()) {
      origin.set_key = std::string(set);
      Report(origin, "", "expected KEY=VALUE, such as --set http.listen=127.0.0.1:8080");
      return;
    }
    const std::string& key = origin.set_key;
    const Lookup found = Find(key);
    if (found.entry == nullptr) {
      const ConfigKey* first = FirstKeyOfSection(key);
      Report(origin, "",
             first
                 ? fmt::format("{} is a section; set one of its keys, such as {}", key, first->key)
                 : UnknownKeyProblem(key));
      return;
    }
    std::string text(Trim(set.substr(equals + 1)));
    // Parsed as a YAML scalar would be: quotes are removed, anything else is taken as is
    // (so [::1]:8080 and a,b stay text rather than becoming a flow list).
    if (text.size() >= 2 && (text[0] == '"' || text[0] == '\'') && text.back() == text[0]) {
      try {
        const YAML::Node quoted = YAML::Load(text);
        if (quoted.IsScalar()) text = quoted.Scalar();
      } catch (const YAML::Exception&) {
        // Not valid YAML quoting: keep the text as written.
      }
    }
    if (!CheckSubkey(*found.entry, key, found.subkey, origin)) return;
    std::vector<std::string> env_names;
    std::optional<std::string> substituted = Substitute(text, origin, key, env_names);
    if (!substituted) return;
    ConfigValue value{ConfigValue::Shape::kScalar, {*substituted}, Got(*substituted, env_names)};
    Apply(*found.entry, key, found.subkey, value, origin);
  }

  // Problems that involve more than one key, blamed on whichever key was set last.
  void CheckInvariants() {
    const std::pair<std::string, const std::string*> topics[] = {
        {"kafka.topics.posts", &config_.kafka.topics.posts},
        {"kafka.topics.hits", &config_.kafka.topics.hits},
        {"kafka.topics.dlq", &config_.kafka.topics.dlq}};
    for (size_t i = 0; i < std::size(topics); ++i) {
      for (size_t j = i + 1; j < std::size(topics); ++j) {
        if (*topics[i].second != *topics[j].second) continue;
        const Origin& a = origins_[topics[i].first];
        const Origin& b = origins_[topics[j].first];
        const bool blame_b = a.Order() <= b.Order();
        Report(blame_b ? b : a, blame_b ? topics[j].first : topics[i].first,
               fmt::format("must differ from {} (both are {})",
                           blame_b ? topics[i].first : topics[j].first, Quote(*topics[i].second)));
      }
    }
    // HTTPS needs both files; a client CA means nothing without them.
    const HttpTlsConfig& tls = config_.http.tls;
    if (!tls.cert_file.empty() && tls.key_file.empty()) {
      Report(origins_["http.tls.cert_file"], "http.tls.cert_file",
             "needs http.tls.key_file too (the certificate's private key)");
    }
    if (tls.cert_file.empty() && !tls.key_file.empty()) {
      Report(origins_["http.tls.key_file"], "http.tls.key_file",
             "needs http.tls.cert_file too (the certificate of the key)");
    }
    if (tls.cert_file.empty() && !tls.client_ca_file.empty()) {
      Report(origins_["http.tls.client_ca_file"], "http.tls.client_ca_file",
             "needs http.tls.cert_file and http.tls.key_file (client certificates are asked for "
             "over HTTPS only)");
    }
  }

  Result<Config> Finish() {
    if (problems_.empty()) return config_;
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return a.origin.Order() < b.origin.Order();
    });
    std::string message;
    for (const Problem& problem : problems_) {
      if (!message.empty()) message += '\n';
      message += problem.text;
    }
    return Error{std::move(message), {}};
  }

 private:
  Origin FileOrigin(Location where) const {
    return Origin{Origin::Kind::kFile, std::move(where), 0, ""};
  }

  // "where: key: message"; a --set's where already names its key.
  void Report(const Origin& origin, std::string_view key, std::string_view message) {
    std::string text = origin.ToString();
    if (!key.empty() && !(origin.kind == Origin::Kind::kSet && origin.set_key == key)) {
      text += fmt::format("{}{}", text.empty() ? "" : ": ", key);
    }
    text += fmt::format("{}{}", text.empty() ? "" : ": ", message);
    problems_.push_back({origin, std::move(text)});
  }

  static std::string Got(const std::string& text, const std::vector<std::string>& env_names) {
    if (env_names.empty()) return Quote(text);
    return fmt::format("{} from env {}", Quote(text), fmt::join(env_names, ", env "));
  }

  // Replaces each ${env:NAME}; nullopt (with the problems reported) when one is unset or
  // malformed.
  std::optional<std::string> Substitute(std::string_view text, const Origin& origin,
                                        std::string_view key, std::vector<std::string>& names) {
    constexpr std::string_view kOpen = "${env:";
    std::string out;
    bool ok = true;
    size_t at = 0;
    for (size_t open; (open = text.find(kOpen, at)) != std::string_view::npos;) {
      out.append(text.substr(at, open - at));
      const size_t close = text.find('}', open);
      const std::string_view name =
          close == std::string_view::npos
              ? ""
              : text.substr(open + kOpen.size(), close - open - kOpen.size());
      if (!IsEnvName(name)) {
        Report(origin, key,
               "expected ${env:NAME} with NAME made of letters, digits and _, got " + Quote(text));
        return std::nullopt;
      }
      if (std::optional<std::string> value = getenv_(name)) {
        out += *value;
      } else {
        Report(origin, key, fmt::format("env {} is not set", name));
        ok = false;
      }
      names.emplace_back(name);
      at = close + 1;
    }
    out.append(text.substr(at));
    if (!ok) return std::nullopt;
    return out;
  }

  void WalkMap(const YAML::Node& map, const std::string& prefix) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies (cheap handles), not references: the iterator's pair is a temporary.
      const YAML::Node name = it->first, value = it->second;
      const Location key_at = MarkOf(name, file_);
      if (!name.IsScalar()) {
        Report(FileOrigin(key_at), prefix, "expected a key name, got " + Describe(name));
        continue;
      }
      const std::string key = prefix.empty() ? name.Scalar() : prefix + "." + name.Scalar();
      const Lookup found = Find(key);
      if (found.entry != nullptr && found.entry->takes_subkeys && found.subkey.empty()) {
        WalkSubkeys(*found.entry, value, key_at);
      } else if (found.entry != nullptr) {
        ApplyNode(*found.entry, key, found.subkey, value, key_at);
      } else if (FirstKeyOfSection(key) != nullptr) {
        if (value.IsMap()) {
          WalkMap(value, key);
        } else if (!value.IsNull()) {
          Report(FileOrigin(ValueAt(value, key_at)), key,
                 fmt::format("expected a mapping of {}.* keys, got {}", key, Describe(value)));
        }
      } else {
        Report(FileOrigin(key_at), key, UnknownKeyProblem(key));
      }
    }
  }

  // kafka.properties: {name: value, ...}
  void WalkSubkeys(const ConfigKey& entry, const YAML::Node& map, const Location& key_at) {
    if (map.IsNull()) return;
    if (!map.IsMap()) {
      Report(FileOrigin(ValueAt(map, key_at)), entry.key,
             fmt::format("expected a mapping of names to values, got {}", Describe(map)));
      return;
    }
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node name = it->first, value = it->second;
      const Location name_at = MarkOf(name, file_);
      if (!name.IsScalar()) {
        Report(FileOrigin(name_at), entry.key, "expected a name, got " + Describe(name));
        continue;
      }
      ApplyNode(entry, entry.key + "." + name.Scalar(), name.Scalar(), value, name_at);
    }
  }

  // Where a value is; an absent one (`key:` and nothing) is where its key is.
  Location ValueAt(const YAML::Node& value, const Location& key_at) const {
    const Location at = MarkOf(value, file_);
    return at.line == 0 || value.IsNull() ? key_at : at;
  }

  void ApplyNode(const ConfigKey& entry, const std::string& key, const std::string& subkey,
                 const YAML::Node& node, const Location& key_at) {
    const Origin origin = FileOrigin(ValueAt(node, key_at));
    if (const auto first = seen_in_file_.find(key); first != seen_in_file_.end()) {
      Report(FileOrigin(key_at), key,
             fmt::format("set twice (first at {})", first->second.ToString()));
      return;
    }
    seen_in_file_.emplace(key, key_at);
    if (!CheckSubkey(entry, key, subkey, FileOrigin(key_at))) return;

    ConfigValue value;
    std::vector<std::string> env_names;
    bool ok = true;
    auto scalar = [&](const YAML::Node& item, const Origin& at) {
      std::optional<std::string> text = Substitute(item.Scalar(), at, key, env_names);
      if (text) value.items.push_back(std::move(*text));
      ok = ok && text.has_value();
    };
    if (node.IsNull()) {
      value.shape = ConfigValue::Shape::kNull;
      value.got = "nothing";
    } else if (node.IsScalar()) {
      scalar(node, origin);
      value.got = ok ? Got(value.items.front(), env_names) : "";
    } else if (node.IsSequence() && node.size() > 0 && node[0].IsMap()) {
      value.shape = ConfigValue::Shape::kRecords;
      value.got = "a list of mappings";
      for (const YAML::Node& item : node) {
        const Origin item_origin = FileOrigin(ValueAt(item, origin.where));
        if (!item.IsMap()) {
          Report(item_origin, key,
                 "expected a list of mappings, got a list holding " + Describe(item));
          ok = false;
          continue;
        }
        std::map<std::string, std::string> record;
        for (auto field = item.begin(); field != item.end(); ++field) {
          const YAML::Node name = field->first, field_value = field->second;
          const Origin field_origin = FileOrigin(ValueAt(field_value, item_origin.where));
          if (!name.IsScalar() || !field_value.IsScalar()) {
            Report(field_origin, key, "expected name: value pairs of strings");
            ok = false;
            continue;
          }
          std::optional<std::string> text =
              Substitute(field_value.Scalar(), field_origin, key, env_names);
          if (text) record[name.Scalar()] = std::move(*text);
          ok = ok && text.has_value();
        }
        value.records.push_back(std::move(record));
        value.record_at.push_back(item_origin.where);
      }
    } else if (node.IsSequence()) {
      value.shape = ConfigValue::Shape::kList;
      value.got = "a list";
      for (const YAML::Node& item : node) {
        const Origin item_origin = FileOrigin(ValueAt(item, origin.where));
        if (item.IsScalar()) {
          scalar(item, item_origin);
        } else {
          Report(item_origin, key,
                 "expected a list of strings, got a list holding " + Describe(item));
          ok = false;
        }
      }
    } else {
      value.shape = ConfigValue::Shape::kMap;
      value.got = "a mapping";
    }
    if (ok) Apply(entry, key, subkey, value, origin);
  }

  bool CheckSubkey(const ConfigKey& entry, const std::string& key, const std::string& subkey,
                   const Origin& origin) {
    if (!entry.takes_subkeys) return true;
    const std::string problem = entry.check_subkey(subkey);
    if (!problem.empty()) Report(origin, key, problem);
    return problem.empty();
  }

  void Apply(const ConfigKey& entry, const std::string& key, const std::string& subkey,
             const ConfigValue& value, const Origin& origin) {
    const std::string problem = entry.apply(value, subkey, config_);
    if (!problem.empty()) {
      Report(origin, key, problem);
      return;
    }
    origins_[key] = origin;
  }

  const EnvLookup& getenv_;
  std::string file_;
  Config config_;
  std::vector<Problem> problems_;
  std::map<std::string, Origin> origins_;         // the last good value of each key set
  std::map<std::string, Location> seen_in_file_;  // each key the file sets, to refuse a repeat
};

// A Markdown table cell: a '|' would end it.
std::string EscapeCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

Result<Config> Load(const ConfigSource& source, std::optional<std::string_view> text,
                    const EnvLookup& getenv) {
  Loader loader(getenv);
  if (text) {
    loader.ApplyFile(source.file.value_or("config"), *text);
  } else if (source.file) {
    loader.ReadFile(*source.file);
  }
  for (size_t i = 0; i < source.sets.size(); ++i) loader.ApplySet(i, source.sets[i]);
  loader.CheckInvariants();
  return loader.Finish();
}

}  // namespace

Result<Config> LoadConfig(const ConfigSource& source, const EnvLookup& getenv) {
  return Load(source, std::nullopt, getenv);
}

Result<Config> ParseConfig(std::string_view file_name, std::string_view yaml_text,
                           const std::vector<std::string>& sets, const EnvLookup& getenv) {
  return Load(ConfigSource{std::string(file_name), sets}, yaml_text, getenv);
}

std::string DescribeConfig(const Config& config) {
  std::string out;
  for (const ConfigKey& entry : ConfigSchema()) {
    out += fmt::format("{}: {}\n", entry.key, entry.show(config));
  }
  return out;
}

std::string ConfigReferenceMarkdown() {
  const Config defaults;
  std::string out =
      "| key | type | default | description |\n"
      "|---|---|---|---|\n";
  for (const ConfigKey& entry : ConfigSchema()) {
    const std::string key = entry.takes_subkeys ? entry.key + ".<name>" : entry.key;
    std::string shown = entry.takes_subkeys ? "" : entry.show(defaults);
    out += fmt::format("| `{}` | {} | {} | {} |\n", key, EscapeCell(entry.type),
                       shown.empty() ? "" : "`" + EscapeCell(shown) + "`",
                       EscapeCell(entry.description));
  }
  return out;
}

}  // namespace vigil::daemon
