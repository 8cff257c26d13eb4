// The compiled-database cache: hits on the second build, and treats a corrupt, truncated
// or foreign file as a miss, never a crash.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "rules/hs_database.h"

namespace vigil::rules {
namespace {

namespace fs = std::filesystem;

class HsDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vigil-hs-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static HsPatternList Regexes() {
    HsPatternList list;
    list.expressions = {"refund(ed)?", "\\d{3,}", "退款.{0,4}到账"};
    list.flags = {HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH, HS_FLAG_SINGLEMATCH, HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH};
    list.ids = {0, 1, 2};
    return list;
  }

  static int CountMatches(const hs_database_t* db, const std::string& text) {
    hs_scratch_t* scratch = nullptr;
    EXPECT_EQ(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
    int count = 0;
    hs_scan(db, text.data(), unsigned(text.size()), 0, scratch,
            [](unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
              ++*static_cast<int*>(ctx);
              return 0;
            },
            &count);
    hs_free_scratch(scratch);
    return count;
  }

  fs::path OnlyCacheFile() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir_)) files.push_back(entry.path());
    EXPECT_EQ(files.size(), 1u);
    return files.empty() ? fs::path() : files[0];
  }

  fs::path dir_;
};

TEST_F(HsDatabaseTest, SecondBuildComesFromTheCache) {
  auto first = BuildHsDatabase(Regexes(), dir_.string());
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->from_cache);
  auto second = BuildHsDatabase(Regexes(), dir_.string());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(CountMatches(second->db, "refunded 1234 退款还没到账"), 3);
  hs_free_database(first->db);
  hs_free_database(second->db);
}

TEST_F(HsDatabaseTest, ChangedPatternsMissTheCache) {
  auto first = BuildHsDatabase(Regexes(), dir_.string());
  HsPatternList changed = Regexes();
  changed.expressions[1] = "\\d{4,}";
  auto second = BuildHsDatabase(changed, dir_.string());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(second->from_cache);
  EXPECT_EQ(CountMatches(second->db, "123"), 0);
  hs_free_database(first->db);
  hs_free_database(second->db);
}

TEST_F(HsDatabaseTest, CorruptOrTruncatedCacheIsAMiss) {
  auto first = BuildHsDatabase(Regexes(), dir_.string());
  ASSERT_TRUE(first.ok());
  hs_free_database(first->db);
  const fs::path file = OnlyCacheFile();
  const auto size = fs::file_size(file);
  for (const std::string& damage : {std::string("flip"), std::string("truncate"), std::string("empty")}) {
    {
      std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
      if (damage == "flip") {
        f.seekp(std::streamoff(size / 2));
        f.put('\x5a');
      }
    }
    if (damage == "truncate") fs::resize_file(file, size / 3);
    if (damage == "empty") fs::resize_file(file, 0);
    auto again = BuildHsDatabase(Regexes(), dir_.string());
    ASSERT_TRUE(again.ok()) << damage;
    EXPECT_FALSE(again->from_cache) << damage;
    EXPECT_EQ(CountMatches(again->db, "refund"), 1) << damage;
    hs_free_database(again->db);
  }
}

TEST_F(HsDatabaseTest, RegexHyperscanCannotCompileIsDroppedWithTheReason) {
  HsPatternList list;
  // \C (any byte) is valid RE2 but unsupported by Hyperscan in UTF-8 mode, even as a
  // prefilter; the others must still compile and match.
  list.expressions = {"abc", "a\\Cb", "x[a-z]{3}y"};
  list.flags = {HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH, HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH, HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH};
  list.ids = {0, 1, 2};
  auto db = BuildHsDatabase(list, "");
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_EQ(db->dropped.size(), 1u);
  EXPECT_EQ(db->dropped[0], 1u);
  EXPECT_EQ(db->dropped_reasons[0], "\\C is unsupported in UTF8 at index 1.");
  EXPECT_TRUE(db->prefiltered.empty());
  EXPECT_EQ(CountMatches(db->db, "abc xabcy"), 2);
  hs_free_database(db->db);
}

}  // namespace
}  // namespace vigil::rules
