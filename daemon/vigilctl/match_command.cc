// vigilctl match: posts (JSON Lines) in, hits (JSON Lines) out.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/hit_codec.h"
#include "connectors/post.h"
#include "daemon/vigilctl/commands.h"

namespace vigil::ctl {

int Match(const MatchOptions& options) {
  auto set = LoadForCommand(options.rule_paths, options.cache_dir, /*check_examples=*/false);
  if (!set) return 1;
  LineInput input;
  if (!input.Open(options.input)) return 1;
  std::istream& in = *input.stream;
  const std::string& source = input.name;

  connectors::PostDecoder decoder;
  connectors::PostView post;
  connectors::PostError error;
  rules::MatchScratch scratch;
  rules::MatchResult result;
  const rules::MatchOptions match_options{.explain = options.explain};
  std::vector<rules::FieldText> fields;
  std::string tags, line;
  size_t line_number = 0, bad = 0, posts = 0, hits = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (!decoder.Decode(line, post, error)) {
      fmt::print(stderr, "{}:{}: {}: {}\n", source, line_number,
                 connectors::InvalidReasonName(error.reason), error.detail);
      ++bad;
      continue;
    }
    ++posts;
    post.MatchFields(fields, tags);
    if (Status status = rules::MatchPost(*set, fields, scratch, result, match_options);
        !status.ok()) {
      fmt::print(stderr, "{}:{}: {}\n", source, line_number, status.error().message);
      ++bad;
      continue;
    }
    for (const rules::Hit& hit : result.hits) {
      fmt::print("{}\n", connectors::EncodeHit(post, hit, options.explain));
      ++hits;
    }
    if (options.explain) {
      for (const rules::Rejection& r : result.rejections) {
        nlohmann::json rejected = {
            {"post_id", post.id}, {"rule_id", r.rule->def.id}, {"rejected", r.reason}};
        fmt::print("{}\n", rejected.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
    }
  }
  fmt::print(stderr, "{} posts, {} hits, {} bad lines\n", posts, hits, bad);
  return bad == 0 ? 0 : 1;
}

}  // namespace vigil::ctl
