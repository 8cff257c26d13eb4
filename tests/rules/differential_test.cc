// The Hyperscan path must yield exactly the hits of a plain RE2 evaluation of the same
// rules (DESIGN.md). Seeded generated rule sets and corpora; the reference below shares
// nothing with the matcher but the normaliser and the validators.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "tests/testing/rules_fixture.h"

namespace vigil::rules {
namespace {

const std::vector<std::string> kWords = {
    "退款", "到账", "客服", "投诉", "骗子", "质量", "快递", "物流", "没到账", "一直", "不处理",
    "维权", "曝光", "保本", "收益", "最好", "第一", "满意", "感谢", "问题", "订单", "退货",
    "refund", "delay", "scam", "support", "never", "arrived", "quality", "broken", "great",
    "thanks", "order", "money", "fraud", "guaranteed", "return", "best", "12", "345", "2024"};
const std::vector<std::string> kSeparators = {"", "", "", " ", "，", "-", "\u200b", ". ", "！"};
const std::vector<std::string> kRegexes = {
    "re:退款.{0,6}到账", "re:\\brefund(ed|s)?\\b", "re:\\d{3,5}", "re:(\\d{17}[\\dx])",
    "re:客服[^,]{0,4}不", "re:(scam|fraud)\\w*", "re:[a-z]+ed\\b", "re:投诉\\d*", "re:(到账|处理)",
    "re:g[a-z]{2,}d"};

// A resident ID with a valid check character, or one with it broken.
std::string ResidentId(std::mt19937& rng, bool valid) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  std::string id = fmt::format("110105{:04d}{:02d}{:02d}{:03d}", 1950 + int(rng() % 60),
                               1 + int(rng() % 12), 1 + int(rng() % 28), int(rng() % 1000));
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (id[size_t(i)] - '0') * kWeights[i];
  char check = "10X98765432"[sum % 11];
  if (!valid) check = check == '0' ? '1' : '0';
  return id + check;
}

std::string Pick(std::mt19937& rng, const std::vector<std::string>& from) {
  return from[rng() % from.size()];
}

std::string PatternList(std::mt19937& rng, int n, double regex_share) {
  std::vector<std::string> items;
  for (int i = 0; i < n; ++i) {
    std::string p = (rng() % 1000) < regex_share * 1000 ? Pick(rng, kRegexes) : Pick(rng, kWords);
    items.push_back("'" + p + "'");  // single-quoted YAML: backslashes stay as written
  }
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

std::string GenerateRules(std::mt19937& rng, int count) {
  std::string yaml = "lists:\n";
  for (int l = 0; l < 6; ++l) yaml += fmt::format("  l{}: {}\n", l, PatternList(rng, 2 + int(rng() % 3), 0.2));
  yaml += "rules:\n";
  for (int r = 0; r < count; ++r) {
    yaml += fmt::format("  - id: gen.{}\n    category: complaint\n    severity: low\n    owner: legal\n", r);
    if (rng() % 4 == 0) yaml += "    fields: [body]\n";
    yaml += "    when:\n";
    const int shape = int(rng() % 10);
    bool has_all = false;
    if (shape < 4) {
      yaml += fmt::format("      any: {}\n", PatternList(rng, 1 + int(rng() % 4), 0.3));
    } else {
      has_all = true;
      std::string all = "[";
      const int parts = 2 + int(rng() % 2);
      for (int p = 0; p < parts; ++p) {
        std::string item = rng() % 3 == 0 ? fmt::format("$l{}", rng() % 6)
                                          : "'" + ((rng() % 4 == 0) ? Pick(rng, kRegexes) : Pick(rng, kWords)) + "'";
        all += (p ? ", " : "") + item;
      }
      yaml += "      all: " + all + "]\n";
      if (shape >= 7) yaml += fmt::format("      near: {}\n", 1 + rng() % 12);
    }
    if (rng() % 4 == 0) yaml += fmt::format("      unless: {}\n", PatternList(rng, 1, 0.3));
    if (!has_all && rng() % 6 == 0) {
      yaml = yaml.substr(0, yaml.rfind("      any:"));
      yaml += "      any: [\"re:\\\\b(\\\\d{17}[\\\\dx])\\\\b\"]\n      validate: cn_resident_id\n";
    }
  }
  return yaml;
}

std::string GeneratePost(std::mt19937& rng) {
  std::string text;
  const int words = 3 + int(rng() % 25);
  for (int w = 0; w < words; ++w) {
    std::string word = rng() % 20 == 0 ? ResidentId(rng, rng() % 2 == 0) : Pick(rng, kWords);
    if (rng() % 8 == 0) {  // upper case or full width, to exercise normalisation
      std::string wide;
      for (char c : word) {
        if (c >= 'a' && c <= 'z') {
          const char32_t cp = rng() % 2 ? char32_t(c - 'a' + 'A') : char32_t(0xFF41 + (c - 'a'));
          if (cp < 0x80) wide += char(cp);
          else wide += fmt::format("{}{}{}", char(0xE0 | (cp >> 12)), char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F)));
        } else {
          wide += c;
        }
      }
      word = wide;
    }
    text += word + Pick(rng, kSeparators);
  }
  return text;
}

// The reference: every pattern of every rule run with RE2 over the normalised fields.
class Reference {
 public:
  explicit Reference(const RuleSet& set) : set_(set) {
    for (const Atom& atom : set.atoms()) {
      RE2::Options options;
      options.set_log_errors(false);
      if (atom.kind == Pattern::Kind::kLiteral) {
        res_.push_back(std::make_unique<RE2>(RE2::QuoteMeta(atom.text), options));
      } else {
        options.set_case_sensitive(false);
        res_.push_back(std::make_unique<RE2>(atom.text, options));
      }
    }
  }

  struct Found {
    size_t begin, end, value_begin, value_end;
  };

  std::vector<Found> FindAll(uint32_t atom, const std::string& text) const {
    std::vector<Found> out;
    const RE2& re = *res_[atom];
    re2::StringPiece input(text), groups[2];
    const int n = re.NumberOfCapturingGroups() > 0 ? 2 : 1;
    size_t pos = 0;
    while (pos <= text.size() && re.Match(input, pos, text.size(), RE2::UNANCHORED, groups, n)) {
      const size_t b = size_t(groups[0].data() - text.data());
      const re2::StringPiece v = n > 1 && groups[1].data() ? groups[1] : groups[0];
      out.push_back({b, b + groups[0].size(), size_t(v.data() - text.data()), size_t(v.data() - text.data()) + v.size()});
      pos = std::max(b + groups[0].size(), b + 1);
    }
    return out;
  }

  static size_t Chars(const std::string& s, size_t end) {
    size_t n = 0;
    for (size_t i = 0; i < end; ++i) n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
    return n;
  }

  // Fired rule ids for a post with these fields (already in field order).
  std::set<std::string> Fired(const std::vector<FieldText>& fields) const {
    std::vector<std::string> texts;
    for (const FieldText& f : fields) texts.push_back(set_.normaliser().Normalise(f.text));
    std::set<std::string> fired;
    for (const CompiledRule& rule : set_.rules()) {
      std::vector<size_t> slots;
      for (size_t i = 0; i < fields.size(); ++i) {
        if (rule.def.fields & FieldBit(fields[i].field)) slots.push_back(i);
      }
      bool unless = false;
      for (uint32_t a : rule.unless) {
        for (size_t s : slots) unless |= !FindAll(a, texts[s]).empty();
      }
      if (unless) continue;
      // occ[slot][part] = (begin_char, end_char) of every valid occurrence
      std::vector<std::vector<std::vector<std::pair<size_t, size_t>>>> occ(fields.size(),
          std::vector<std::vector<std::pair<size_t, size_t>>>(rule.parts.size()));
      for (size_t s : slots) {
        for (size_t p = 0; p < rule.parts.size(); ++p) {
          for (uint32_t a : rule.parts[p]) {
            for (const Found& f : FindAll(a, texts[s])) {
              if (rule.def.validate && set_.atoms()[a].kind == Pattern::Kind::kRegex &&
                  !Validate(*rule.def.validate, texts[s].substr(f.value_begin, f.value_end - f.value_begin))) continue;
              occ[s][p].push_back({Chars(texts[s], f.begin), Chars(texts[s], f.end)});
            }
          }
        }
      }
      bool fires = false;
      if (rule.def.near == 0) {
        fires = true;
        for (size_t p = 0; p < rule.parts.size(); ++p) {
          bool any = false;
          for (size_t s : slots) any |= !occ[s][p].empty();
          fires &= any;
        }
      } else {
        for (size_t s : slots) fires |= NearByBruteForce(occ[s], 0, 0, SIZE_MAX, size_t(rule.def.near));
      }
      if (fires) fired.insert(rule.def.id);
    }
    return fired;
  }

 private:
  // Tries every combination: gap = max(begin) - min(end), clamped at 0.
  static bool NearByBruteForce(const std::vector<std::vector<std::pair<size_t, size_t>>>& parts,
                               size_t p, size_t max_begin, size_t min_end, size_t near) {
    if (p == parts.size()) return max_begin <= min_end || max_begin - min_end <= near;
    for (const auto& [b, e] : parts[p]) {
      if (NearByBruteForce(parts, p + 1, std::max(max_begin, b), std::min(min_end, e), near)) return true;
    }
    return false;
  }

  const RuleSet& set_;
  std::vector<std::unique_ptr<RE2>> res_;
};

class DifferentialTest : public ::testing::TestWithParam<int> {};

TEST_P(DifferentialTest, HyperscanPathEqualsPlainRe2) {
  std::mt19937 rng{uint32_t(GetParam())};
  const std::string yaml = GenerateRules(rng, 120);
  auto set = vigil::testing::CompileYaml(yaml, false);
  ASSERT_NE(set, nullptr) << yaml;
  Reference reference(*set);
  MatchScratch scratch;
  MatchResult result;
  size_t total_hits = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string title = rng() % 3 == 0 ? GeneratePost(rng) : "";
    const std::string body = GeneratePost(rng);
    std::vector<FieldText> fields;
    if (!title.empty()) fields.push_back({Field::kTitle, title});
    fields.push_back({Field::kBody, body});
    ASSERT_TRUE(MatchPost(*set, fields, scratch, result).ok());
    std::set<std::string> fast;
    for (const Hit& hit : result.hits) fast.insert(hit.rule->def.id);
    const std::set<std::string> slow = reference.Fired(fields);
    ASSERT_EQ(fast, slow) << "title: " << title << "\nbody: " << body;
    total_hits += fast.size();
  }
  // The corpus must exercise the rules, or the equality proves nothing.
  EXPECT_GT(total_hits, 200u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialTest, ::testing::Values(1, 2, 3, 4, 5, 6, 7, 8));

}  // namespace
}  // namespace vigil::rules
