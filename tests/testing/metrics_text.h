// Reads Prometheus text exposition back, so tests can assert on /metrics by name and
// labels rather than on raw text.
#pragma once

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace vigil::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family name -> counter | gauge | histogram

  // The value of the sample named `name` whose labels include `labels`; nullopt when
  // none matches, and when several do the sum of them.
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    std::optional<double> sum;
    for (const Sample& s : samples) {
      if (s.name != name) continue;
      bool all = true;
      for (const auto& [k, v] : labels) {
        auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v) all = false;
      }
      if (all) sum = sum.value_or(0) + s.value;
    }
    return sum;
  }
};

inline Exposition ParseExposition(const std::string& text) {
  Exposition out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      out.types[name] = type;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    size_t i = line.find_first_of("{ ");
    sample.name = line.substr(0, i);
    if (i != std::string::npos && line[i] == '{') {
      size_t j = i + 1;
      while (j < line.size() && line[j] != '}') {
        const size_t eq = line.find('=', j);
        const std::string key = line.substr(j, eq - j);
        std::string value;
        size_t k = eq + 2;  // after ="
        for (; k < line.size() && line[k] != '"'; ++k) {
          if (line[k] == '\\' && k + 1 < line.size()) ++k;
          value += line[k];
        }
        sample.labels[key] = value;
        j = k + 1;
        if (j < line.size() && line[j] == ',') ++j;
      }
      i = j + 1;
    }
    sample.value = std::stod(line.substr(i));
    out.samples.push_back(std::move(sample));
  }
  return out;
}

}  // namespace vigil::testing
