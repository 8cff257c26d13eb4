// Normaliser throughput on the kinds of text Vigil sees. Every post field passes through
// Normalise, so MB/s here bounds the daemon's per-core ingest rate.
#include "rules/normaliser.h"

#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace vigil::rules {
namespace {

// Builds about `size` bytes by drawing pieces at random (fixed seed), cut back to whole
// pieces so the text stays valid UTF-8.
std::string Compose(const std::vector<std::string>& pieces, size_t size) {
  std::mt19937 rng(1234);
  std::string text;
  while (text.size() < size) text += pieces[rng() % pieces.size()];
  return text;
}

std::string EnglishText(size_t size) {
  return Compose({"The ",        "refund ",       "has ",      "not ",     "arrived ", "after ",
                  "THREE ",      "weeks. ",       "Customer ", "service ", "keeps ",   "ignoring ",
                  "me, ",        "and ",          "I ",        "want ",    "my ",      "money ",
                  "back! ",      "Order #48213 ", "was ",      "Delayed ", "again.\n", "Terrible ",
                  "experience ", "(2024-05-01) ", "@support "},
                 size);
}

std::string ChineseText(size_t size) {
  return Compose(
      {"退款", "一个月了", "还没到账", "，",   "客服", "一直不处理", "。",   "我们", "要求",
       "平台", "立即",     "给出",     "解释", "！",   "石沉大海",   "投诉", "无门", "这家",
       "公司", "的",       "服务",     "太差", "了",   "？",         "已经", "等了", "很久"},
      size);
}

// Social-media style: Chinese with English words, digits, full-width letters, emoji
// with variation selectors, a zero-width space, evasion separators and an accent.
std::string MixedText(size_t size) {
  return Compose({"退款",
                  "一直不处理",
                  "，",
                  "客服",
                  "refund ",
                  "delay ",
                  "ＶＩＰ",
                  "会员",
                  "退 款",
                  "退-款",
                  "石\u200B沉大海",
                  "😡",
                  "❤\uFE0F",
                  " #维权# ",
                  "2024年",
                  "café ",
                  "ｄｅｌａｙ",
                  "！！",
                  "@平台客服 ",
                  "https://t.cn/abc ",
                  "。"},
                 size);
}

std::string AccentedText(size_t size) {
  return Compose({"Cafe\u0301 ", "nai\u0308ve ", "Ĺe ", "Ångström ", "Straße ", "ﬁnance ",
                  "Ελληνικά ", "Привет ", "e\u0323\u0301 "},
                 size);
}

void RunNormalise(benchmark::State& state, const std::string& text, bool with_offsets) {
  const Normaliser normaliser;
  NormalisedText out;
  for (auto _ : state) {
    const bool ok = normaliser.Normalise(text, out, with_offsets);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out.text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_NormaliseAsciiEnglish(benchmark::State& state) {
  RunNormalise(state, EnglishText(static_cast<size_t>(state.range(0))), false);
}
BENCHMARK(BM_NormaliseAsciiEnglish)->Arg(1 << 10)->Arg(64 << 10);

void BM_NormaliseChinese(benchmark::State& state) {
  RunNormalise(state, ChineseText(static_cast<size_t>(state.range(0))), false);
}
BENCHMARK(BM_NormaliseChinese)->Arg(1 << 10)->Arg(64 << 10);

void BM_NormaliseMixed(benchmark::State& state) {
  RunNormalise(state, MixedText(static_cast<size_t>(state.range(0))), false);
}
BENCHMARK(BM_NormaliseMixed)->Arg(1 << 10)->Arg(64 << 10);

void BM_NormaliseAccented(benchmark::State& state) {
  RunNormalise(state, AccentedText(static_cast<size_t>(state.range(0))), false);
}
BENCHMARK(BM_NormaliseAccented)->Arg(64 << 10);

void BM_NormaliseMixedWithOffsets(benchmark::State& state) {
  RunNormalise(state, MixedText(static_cast<size_t>(state.range(0))), true);
}
BENCHMARK(BM_NormaliseMixedWithOffsets)->Arg(64 << 10);

void BM_NormaliseIsValidUtf8(benchmark::State& state) {
  const std::string text = MixedText(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(IsValidUtf8(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_NormaliseIsValidUtf8)->Arg(64 << 10);

// The code point table is built once per process and shared, so this is the cost of a
// Normaliser after the first.
void BM_NormaliserConstruction(benchmark::State& state) {
  for (auto _ : state) {
    const Normaliser normaliser;
    benchmark::DoNotOptimize(&normaliser);
  }
}
BENCHMARK(BM_NormaliserConstruction);

}  // namespace
}  // namespace vigil::rules
