#include "daemon/lib/version.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vigil::daemon {
namespace {

TEST(VersionTest, NamesEveryEngineWithItsVersion) {
  const BuildVersionInfo versions = BuildVersions();
  EXPECT_EQ(versions.vigil, VIGIL_VERSION);
  // Versions only: hs_version()'s build date is cut off, so that a metric label stays short.
  EXPECT_THAT(versions.hyperscan, ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_THAT(versions.re2, ::testing::MatchesRegex("[0-9][0-9.]*"));
  EXPECT_THAT(versions.librdkafka, ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+.*"));
  EXPECT_EQ(VersionLine("vigild"), "vigild " + versions.vigil + " (Hyperscan " +
                                       versions.hyperscan + ", RE2 " + versions.re2 +
                                       ", librdkafka " + versions.librdkafka + ")");
}

}  // namespace
}  // namespace vigil::daemon
