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

  connectors::PostDecoder decoder;
  connectors::PostView post;
  rules::MatchScratch scratch;
  rules::MatchResult result;
  const rules::MatchOptions match_options{.explain = options.explain};
  std::vector<rules::FieldText> fields;
  std::string tags;
  size_t match_failures = 0, posts = 0, hits = 0;
  while (input.NextPost(decoder, post)) {
    ++posts;
    post.MatchFields(fields, tags);
    if (Status status = rules::MatchPost(*set, fields, scratch, result, match_options);
        !status.ok()) {
      fmt::print(stderr, "{}:{}: {}\n", input.name, input.line_number, status.error().message);
      ++match_failures;
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
  const size_t bad = input.bad + match_failures;
  fmt::print(stderr, "{} posts, {} hits, {} bad lines\n", posts, hits, bad);
  return bad == 0 ? 0 : 1;
}

}  // namespace vigil::ctl
