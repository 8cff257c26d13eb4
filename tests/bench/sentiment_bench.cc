// Sentiment scoring throughput on ~300-byte posts. Sentiment rules score every post, so
// this is on the hot path; the target is more than 50 MB/s on mixed posts.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "rules/sentiment.h"

namespace vigil::rules {

// The embedded lexicons, generated at build time (cmake/embed_text.cmake).
extern const std::string_view kVaderLexicon;
extern const std::string_view kChineseCrisisLexicon;

namespace {

// Normalised clauses (as the normaliser emits them: NFKC, lower case, "，" -> ",").
const std::vector<std::string>& ChineseClauses() {
  static const std::vector<std::string> clauses = {"客服太垃圾了,",
                                                   "退款拖了三个月还没到账,",
                                                   "骗子公司,大家避雷!",
                                                   "物流很快,",
                                                   "客服态度非常好,感谢",
                                                   "东西不错,但是包装有点破损,",
                                                   "平台暴雷了老板跑路,",
                                                   "一直打不通电话,投诉无门,",
                                                   "产品很好用,五星好评,",
                                                   "说好的七天无理由退货,现在不给退,",
                                                   "今天去门店办理业务,排队一个小时,",
                                                   "不是很满意,",
                                                   "真的yyds,强烈推荐!",
                                                   "价格比较贵,质量一般,",
                                                   "售后处理得很及时,问题已解决,"};
  return clauses;
}

const std::vector<std::string>& EnglishClauses() {
  static const std::vector<std::string> clauses = {
      "the service was terrible and the refund never arrived. ",
      "customer support was extremely helpful! ",
      "this is not very good, ",
      "i would never recommend this company, they are scammers. ",
      "delivery took three weeks but the product is great :) ",
      "posted from my phone at the station, ",
      "kind of disappointed tbh. "};
  return clauses;
}

// Posts of about `bytes` bytes; `chinese_share` of the clauses are Chinese.
std::vector<std::string> MakePosts(size_t count, size_t bytes, double chinese_share) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> coin(0, 1);
  std::vector<std::string> posts;
  for (size_t i = 0; i < count; ++i) {
    std::string post;
    while (post.size() < bytes) {
      const auto& clauses = coin(rng) < chinese_share ? ChineseClauses() : EnglishClauses();
      post += clauses[rng() % clauses.size()];
    }
    posts.push_back(std::move(post));
  }
  return posts;
}

void ScorePosts(benchmark::State& state, double chinese_share, bool explain) {
  auto scorer = SentimentScorer::Builtin();
  if (!scorer.ok()) {
    state.SkipWithError(scorer.error().ToString().c_str());
    return;
  }
  const std::vector<std::string> posts = MakePosts(1024, 300, chinese_share);
  int64_t bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& post = posts[i++ % posts.size()];
    benchmark::DoNotOptimize((*scorer)->Score(post, explain));
    bytes += static_cast<int64_t>(post.size());
  }
  state.SetBytesProcessed(bytes);
}

void BM_SentimentMixed(benchmark::State& state) { ScorePosts(state, 0.7, false); }
void BM_SentimentChinese(benchmark::State& state) { ScorePosts(state, 1.0, false); }
void BM_SentimentEnglish(benchmark::State& state) { ScorePosts(state, 0.0, false); }
void BM_SentimentMixedExplain(benchmark::State& state) { ScorePosts(state, 0.7, true); }
BENCHMARK(BM_SentimentMixed);
BENCHMARK(BM_SentimentChinese);
BENCHMARK(BM_SentimentEnglish);
BENCHMARK(BM_SentimentMixedExplain);

// Building both lexicons: what the first Builtin() call costs at start-up.
void BM_SentimentBuildLexicons(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        SentimentScorer::FromText(kVaderLexicon, "vader", kChineseCrisisLexicon, "zh"));
  }
}
BENCHMARK(BM_SentimentBuildLexicons)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil::rules
