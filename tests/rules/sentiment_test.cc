#include "rules/sentiment.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vigil::rules {
namespace {

const SentimentScorer& Builtin() {
  static const std::shared_ptr<const SentimentScorer> scorer = [] {
    auto result = SentimentScorer::Builtin();
    EXPECT_TRUE(result.ok()) << result.error().ToString();
    return result.ok() ? *result : nullptr;
  }();
  return *scorer;
}

double Compound(std::string_view text) { return Builtin().Score(text).compound; }

// Finds the explained term `term`; fails the test when it is missing.
SentimentTerm Term(const SentimentScore& score, std::string_view term) {
  for (const SentimentTerm& t : score.terms) {
    if (t.term == term) return t;
  }
  ADD_FAILURE() << "no term '" << term << "'";
  return {};
}

TEST(SentimentTest, BuiltinLoadsOnceAndIsShared) {
  auto first = SentimentScorer::Builtin();
  auto second = SentimentScorer::Builtin();
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());
}

TEST(SentimentTest, EmptyAndNeutralTextScoreZero) {
  for (std::string_view text : {"", "   ", "!!!", "...", "the table is brown", "快递到了",
                                "差不多吧", "别人说的", "美团外卖"}) {
    const SentimentScore score = Builtin().Score(text, /*explain=*/true);
    EXPECT_EQ(score.compound, 0) << text;
    EXPECT_TRUE(score.terms.empty()) << text;
  }
}

// Reference compound scores from vader-sentiment@1.1.3 (the JS port, whose rules this
// scorer follows), computed with node: SentimentIntensityAnalyzer.polarity_scores(text).
struct VaderCase {
  const char* text;
  double compound;
};
constexpr VaderCase kVaderCases[] = {
    {"vader is smart, handsome, and funny.", 0.8316},
    {"vader is smart, handsome, and funny!", 0.8439},
    {"vader is very smart, handsome, and funny.", 0.8545},
    {"vader is very smart, handsome, and funny!!!", 0.882},
    {"vader is not smart, handsome, nor funny.", -0.7424},
    {"the book was good.", 0.4404},
    {"at least it isn't a horrible book.", 0.431},
    {"the book was only kind of good.", 0.3832},
    {"the plot was good, but the characters are uncompelling and the dialog is not great.",
     -0.7042},
    {"today sux!", -0.4199},
    {"today only kinda sux! but i'll get by, lol", 0.5249},
    {"make sure you :) or :d today!", 0.8356},
    {"not bad at all", 0.431},
    {"the service was terrible and the refund never arrived", -0.4767},
    {"i would never recommend this company, they are scammers", -0.2755},
    {"customer support was extremely helpful and the delivery was fast", 0.6997},
    {"this is not very good", -0.3865},
    {"this is never so bad", -0.804},
    {"what a horrible experience???", -0.6174},
    {"i don't like it", -0.2755},
    {"it was barely acceptable", 0.2516},
    {"they least deserve any praise", 0.5574},
    {"the least bad option was still terrible", -0.0644},
    {"very least helpful agent", 0.4728},
    {"the food here is the shit", 0.6124},
    {"yeah right, like that would ever work", 0.5719},
    {"this phone does not cut the mustard", 0.4588},
    {"the movie was kind of boring", -0.3804},
    {"i am not very happy with the service!!!!!", -0.6578},
    {"despite the delays, the support was wonderful", 0.7506},
    {"great :-) but slow :(", -0.1655},
    {"it's 100% a scam!", -0.6114},
    {"not not good", 0.2594},
    {"the food is good, but the service is terrible", -0.4939},
};

TEST(SentimentTest, EnglishMatchesVaderReference) {
  for (const VaderCase& c : kVaderCases) {
    EXPECT_NEAR(Compound(c.text), c.compound, 0.001) << c.text;
  }
}

// Where this scorer differs from the JS port on purpose: it strips any run of punctuation
// from a word's ends (the port strips one PUNC_LIST string, so "happy..." and "good!!!!"
// are not found and it scores these 0).
TEST(SentimentTest, EnglishStripsAllPunctuationFromWordEnds) {
  EXPECT_NEAR(Compound("i am happy..."), Compound("i am happy"), 1e-9);
  EXPECT_NEAR(Compound("(good) service"), Compound("good service"), 1e-9);
  EXPECT_GT(Compound("the service is good!!!!"), Compound("the service is good"));
}

TEST(SentimentTest, EnglishButShiftsWeightToTheSecondClause) {
  const SentimentScore score =
      Builtin().Score("the food is good, but the service is terrible", /*explain=*/true);
  EXPECT_NEAR(Term(score, "good").valence, 1.9 * 0.5, 1e-9);
  EXPECT_NEAR(Term(score, "terrible").valence, -2.1 * 1.5, 1e-9);
  EXPECT_LT(score.compound, Compound("the food is good, the service is terrible"));
}

TEST(SentimentTest, ChineseComplaintsAreStronglyNegative) {
  for (std::string_view text :
       {"客服太垃圾了,退款拖了三个月,骗子公司", "平台暴雷了,老板跑路,血汗钱没了",
        "无语,离谱,投诉无门", "割韭菜的黑心商家", "退款一个月了还没到账,客服一直不处理"}) {
    EXPECT_LT(Compound(text), -0.5) << text;
  }
}

TEST(SentimentTest, ChinesePraiseIsPositive) {
  for (std::string_view text : {"物流很快,客服态度非常好,感谢", "产品很好用,五星好评,强烈推荐",
                                "退款已到账,感谢客服", "这家店真的yyds"}) {
    EXPECT_GT(Compound(text), 0.3) << text;
  }
}

TEST(SentimentTest, ChineseNegationFlipsAndDamps) {
  EXPECT_LT(Compound("不满意"), 0);
  EXPECT_GT(Compound("满意"), 0);
  const SentimentScore negated = Builtin().Score("不推荐", /*explain=*/true);
  EXPECT_NEAR(Term(negated, "推荐").valence, 1.8 * -0.74, 1e-9);
  EXPECT_LT(negated.compound, 0);
  EXPECT_LT(Compound("没有诚意"), 0);
  // The negator reaches three tokens back, no further.
  EXPECT_LT(Compound("不是很推荐"), 0);
  EXPECT_GT(Compound("不是说了很多次推荐"), 0);
  // A-not-A questions do not negate, and a negator reaches over a neutral word.
  EXPECT_LT(Compound("有没有人一起维权"), 0);
  EXPECT_LT(Compound("没有想象中那么好"), 0);
  // Double negation flips back.
  EXPECT_GT(Compound("不是不好"), 0);
  // "Not very bad" is better than "very bad" and milder than plain praise.
  EXPECT_GT(Compound("不是很差"), Compound("很差"));
  EXPECT_LT(Compound("不是很差"), Compound("很好"));
  // Punctuation and white space end the negator's reach: 不 belongs to the first clause.
  EXPECT_EQ(Compound("不买,垃圾"), Compound("垃圾"));
  EXPECT_EQ(Compound("不买 垃圾"), Compound("垃圾"));
  EXPECT_GT(Compound("不买垃圾"), 0);
}

TEST(SentimentTest, ChineseDegreeAdverbsScale) {
  EXPECT_LT(Compound("非常失望"), Compound("有点失望"));
  EXPECT_LT(Compound("有点失望"), 0);
  EXPECT_LT(Compound("失望"), Compound("有点失望"));
  EXPECT_GT(Compound("太好了"), Compound("好"));
  // 好 is a degree adverb before a sentiment word and praise on its own.
  EXPECT_LT(Compound("好失望"), Compound("失望"));
  EXPECT_LT(Compound("好不开心"), 0);
  EXPECT_GT(Compound("好"), 0);
  // A degree adverb before a negator scales the negated word; after it, it is inverted.
  EXPECT_LT(Compound("很不好"), Compound("不太好"));
  EXPECT_LT(Compound("不太好"), 0);
}

TEST(SentimentTest, ChineseButShiftsWeightToTheSecondClause) {
  const SentimentScore score = Builtin().Score("东西不错,但是客服太差", /*explain=*/true);
  EXPECT_LT(score.compound, 0);
  EXPECT_NEAR(Term(score, "不错").valence, 2.0 * 0.5, 1e-9);
  EXPECT_NEAR(Term(score, "差").valence, -2.0 * 1.5 * 1.5, 1e-9);
  EXPECT_GT(Compound("东西很差,不过客服很好"), 0);
}

TEST(SentimentTest, ExclamationsAddEmphasis) {
  EXPECT_GT(Compound("好评!"), Compound("好评"));
  EXPECT_LT(Compound("垃圾!!"), Compound("垃圾"));
  // Up to four count.
  EXPECT_EQ(Compound("好评!!!!"), Compound("好评!!!!!!!"));
  EXPECT_GT(Compound("好评!!!!"), Compound("好评!!!"));
}

TEST(SentimentTest, MixedLanguagesAddIntoOneScore) {
  EXPECT_GT(Compound("客服yyds"), 0.3);
  EXPECT_LT(Compound("this product is 垃圾"), -0.5);
  EXPECT_LT(Compound("great 东西, 但是 customer service 太垃圾了"), 0);
}

TEST(SentimentTest, ExplainGivesTermsWithByteOffsets) {
  const std::string text = "物流很快,but 客服太垃圾了 :(";
  const SentimentScore score = Builtin().Score(text, /*explain=*/true);
  ASSERT_EQ(score.terms.size(), 3u);
  for (const SentimentTerm& t : score.terms) {
    EXPECT_EQ(text.substr(t.begin, t.end - t.begin), t.term);
  }
  EXPECT_EQ(score.terms[0].term, "快");
  EXPECT_EQ(score.terms[0].begin, 9u);
  EXPECT_EQ(score.terms[0].end, 12u);
  EXPECT_NEAR(score.terms[0].valence, 1.0 * 1.25 * 0.5, 1e-9);
  EXPECT_EQ(score.terms[1].term, "垃圾");
  EXPECT_EQ(score.terms[1].begin, 26u);
  EXPECT_NEAR(score.terms[1].valence, -3.0 * 1.5 * 1.5, 1e-9);
  EXPECT_EQ(score.terms[2].term, ":(");
  EXPECT_EQ(score.terms[2].begin, text.size() - 2);
  // Explaining does not change the score, and without it no terms are made.
  const SentimentScore plain = Builtin().Score(text);
  EXPECT_EQ(plain.compound, score.compound);
  EXPECT_TRUE(plain.terms.empty());
}

TEST(SentimentTest, CompoundStaysInRange) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "垃圾 ";
  EXPECT_GE(Compound(text), -1.0);
  EXPECT_LT(Compound(text), -0.99);
}

TEST(SentimentTest, ToleratesInvalidUtf8) {
  EXPECT_GT(Compound("\xff\xfe好评\xe5\xa5"), 0);
  EXPECT_EQ(Compound("\xe5"), 0);
}

TEST(SentimentTest, ScoresFromManyThreads) {
  const double expected = Compound("客服太垃圾了,退款拖了三个月,骗子公司");
  std::vector<std::thread> threads;
  std::vector<double> got(4);
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 1000; ++n) got[i] = Compound("客服太垃圾了,退款拖了三个月,骗子公司");
    });
  }
  for (std::thread& t : threads) t.join();
  for (double g : got) EXPECT_EQ(g, expected);
}

TEST(SentimentTest, FromTextBuildsACustomScorer) {
  auto scorer =
      SentimentScorer::FromText("# comment\n\ngood\t2.0\t0.5\t[2, 2]\r\n", "en.txt",
                                "靠谱\t2\tword\n不\t0\tnegator\n超\t0\tdegree\t2\n", "zh.tsv");
  ASSERT_TRUE(scorer.ok()) << scorer.error().ToString();
  const SentimentScore score = (*scorer)->Score("超靠谱 good", /*explain=*/true);
  ASSERT_EQ(score.terms.size(), 2u);
  EXPECT_NEAR(score.terms[0].valence, 4.0, 1e-9);
  EXPECT_NEAR(score.terms[1].valence, 2.0, 1e-9);
  EXPECT_LT((*scorer)->Score("不靠谱").compound, 0);
  EXPECT_EQ((*scorer)->Score("great").compound, 0);
}

struct BadLexicon {
  const char* english;
  const char* chinese;
  const char* error;  // the full message
};
constexpr BadLexicon kBadLexicons[] = {
    {"good\t2\nbad\tvery\n", "", "en.txt:2: valence 'very' is not a number in [-4, 4]"},
    {"good\n", "", "en.txt:1: expected term<TAB>valence<TAB>..."},
    {"good\t9\n", "", "en.txt:1: valence '9' is not a number in [-4, 4]"},
    {"", "好\t2\tword\n坏\tx\tword\n", "zh.tsv:2: valence 'x' is not a number in [-4, 4]"},
    {"", "# c\n坏\n",
     "zh.tsv:2: expected term<TAB>valence<TAB>word|negator|degree|but[<TAB>scale]"},
    {"", "很\t0\tdegree\n",
     "zh.tsv:1: a degree adverb needs a scale in (0, 4] in the fourth column"},
    {"", "很\t0\tadverb\n",
     "zh.tsv:1: unknown type 'adverb' (expected word, negator, degree or but)"},
    {"", "不\t1\tnegator\n", "zh.tsv:1: a negator has valence 0"},
    {"", "好\t2\tword\t1.5\n", "zh.tsv:1: only degree adverbs take a scale"},
    {"", "好\t2\tword\n\n好\t1\tword\n", "zh.tsv:3: '好' is already defined on line 1"},
    {"", "一二三四五六七八九\t1\tword\n",
     "zh.tsv:1: term is longer than 8 characters: '一二三四五六七八九'"},
    {"", "好a\t1\tword\n",
     "zh.tsv:1: term mixes CJK and other characters and can never match: '好a'"},
    {"", "a b\t1\tword\n", "zh.tsv:1: term contains white space: 'a b'"},
};

TEST(SentimentTest, MalformedLexiconsAreRejectedWithSourceAndLine) {
  for (const BadLexicon& bad : kBadLexicons) {
    auto scorer = SentimentScorer::FromText(bad.english, "en.txt", bad.chinese, "zh.tsv");
    ASSERT_FALSE(scorer.ok()) << bad.english << bad.chinese;
    EXPECT_EQ(scorer.error().ToString(), bad.error);
  }
}

}  // namespace
}  // namespace vigil::rules
