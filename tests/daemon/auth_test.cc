// Access control pieces: the constant-time token lookup, token checks with file:line,
// the tokens file, and the rule for running without tokens.
#include "daemon/lib/auth.h"

#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace vigil::daemon {
namespace {

constexpr char kAliceToken[] = "alice-0123456789abcdef";
constexpr char kBobToken[] = "bob-0123456789abcdef00";

std::string Hex(const TokenDigest& digest) {
  std::string out;
  for (unsigned char c : digest) out += fmt::format("{:02x}", c);
  return out;
}

AccessControl Access(std::vector<TokenEntry> entries) {
  auto tokens = BuildTokens(entries);
  EXPECT_TRUE(tokens.ok()) << tokens.error().message;
  return AccessControl(tokens.ok() ? *tokens : std::vector<ApiToken>{}, {});
}

TEST(AuthTest, DigestsCompareEqualOnlyWhenEqual) {
  EXPECT_TRUE(DigestsEqual(Sha256(kAliceToken), Sha256(kAliceToken)));
  EXPECT_FALSE(DigestsEqual(Sha256(kAliceToken), Sha256(kBobToken)));
  TokenDigest one_bit = Sha256(kAliceToken);
  one_bit.back() ^= 1;
  EXPECT_FALSE(DigestsEqual(Sha256(kAliceToken), one_bit));
  // The well-known digest of "abc" (FIPS 180-2): OpenSSL's SHA-256, not something else.
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuthTest, FindsTheTokenPresentedWhateverItsLength) {
  const AccessControl access = Access({{"alice", "responder", kAliceToken, "", "t.yaml:1"},
                                       {"bob", "viewer", "", Hex(Sha256(kBobToken)), "t.yaml:4"}});
  ASSERT_TRUE(access.Find(kAliceToken).has_value());
  EXPECT_EQ(access.Find(kAliceToken)->name, "alice");
  EXPECT_EQ(access.Find(kAliceToken)->role, Role::kResponder);
  ASSERT_TRUE(access.Find(kBobToken).has_value());  // configured by its sha256
  EXPECT_EQ(access.Find(kBobToken)->name, "bob");
  EXPECT_FALSE(access.Find("").has_value());
  EXPECT_FALSE(access.Find("alice").has_value());                             // a prefix
  EXPECT_FALSE(access.Find(std::string(kAliceToken) + "x").has_value());      // longer
  EXPECT_FALSE(access.Find(std::string(kAliceToken).substr(1)).has_value());  // shorter
  EXPECT_FALSE(access.Find(Hex(Sha256(kBobToken))).has_value());              // the digest itself
}

TEST(AuthTest, TokenProblemsNameWhereAndTheField) {
  auto tokens = BuildTokens({
      {"alice", "viewer", kAliceToken, "", "tokens.yaml:1"},
      {"alice", "responder", kBobToken, "", "tokens.yaml:4"},
      {"carol", "operator", "carol-0123456789abcdef", "", "tokens.yaml:7"},
      {"dave", "viewer", "short", "", "tokens.yaml:10"},
      {"erin", "admin", "", Hex(Sha256(kAliceToken)), "tokens.yaml:13"},
      {"frank", "viewer", "", "not-hex", "tokens.yaml:16"},
      {"gina", "viewer", "", "", "vigil.yaml:20"},
  });
  ASSERT_FALSE(tokens.ok());
  const std::string& message = tokens.error().message;
  for (const char* expected : {
           "tokens.yaml:4: name: \"alice\" is used twice (first at tokens.yaml:1)",
           "tokens.yaml:7: role: unknown role \"operator\"",
           "tokens.yaml:10: token: shorter than 16 characters",
           "tokens.yaml:13: sha256: the same token as the one at tokens.yaml:1",
           "tokens.yaml:16: sha256: expected 64 hex digits",
           "vigil.yaml:20: token: missing",
       }) {
    EXPECT_NE(message.find(expected), std::string::npos) << expected << "\nin:\n" << message;
  }
  EXPECT_EQ(message.find(kAliceToken), std::string::npos) << "a token in a message";
  EXPECT_EQ(message.find("short\n"), std::string::npos) << "a token in a message";
}

TEST(AuthTest, TokensFileIsReadWithLines) {
  auto entries = ParseTokensFile("tokens.yaml", R"(# API tokens
- name: alice
  role: responder
  token: alice-0123456789abcdef
- name: ci
  role: ingest
  sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
)");
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "alice");
  EXPECT_EQ((*entries)[0].where, "tokens.yaml:2");
  EXPECT_EQ((*entries)[1].where, "tokens.yaml:5");
  EXPECT_EQ((*entries)[1].role, "ingest");

  auto bad = ParseTokensFile("tokens.yaml", "- name: alice\n  role: viewer\n  secret: x\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("tokens.yaml:3: secret: unknown field"), std::string::npos)
      << bad.error().message;
  auto not_list = ParseTokensFile("tokens.yaml", "alice: x\n");
  ASSERT_FALSE(not_list.ok());
  EXPECT_NE(not_list.error().message.find("tokens.yaml:1: expected a list"), std::string::npos);
  auto broken = ParseTokensFile("tokens.yaml", "- name: [unclosed\n");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("tokens.yaml:"), std::string::npos);
}

TEST(AuthTest, TokensFromTheFileAndTheConfigAreCheckedTogether) {
  testing::TempDir dir;
  std::ofstream(dir / "tokens.yaml")
      << "- name: alice\n  role: admin\n  token: " << kBobToken << "\n";
  Config config;
  config.http.tokens = {{"alice", "viewer", kAliceToken, "", "vigil.yaml:3"}};
  config.http.tokens_file = (dir / "tokens.yaml").string();
  auto access = AccessControl::FromConfig(config);
  ASSERT_FALSE(access.ok());
  EXPECT_NE(access.error().message.find("tokens.yaml:1: name: \"alice\" is used twice (first at "
                                        "vigil.yaml:3)"),
            std::string::npos)
      << access.error().message;
  config.http.tokens_file = (dir / "missing.yaml").string();
  access = AccessControl::FromConfig(config);
  ASSERT_FALSE(access.ok());
  EXPECT_NE(access.error().message.find("missing.yaml: cannot read"), std::string::npos);
}

TEST(AuthTest, ReloadingTheTokensFileRotatesTokensAndKeepsThemWhenTheFileIsBad) {
  testing::TempDir dir;
  const auto file = dir / "tokens.yaml";
  std::ofstream(file) << "- name: alice\n  role: responder\n  token: " << kAliceToken << "\n";
  Config config;
  config.http.host = "0.0.0.0";
  config.http.tokens_file = file.string();
  auto access = AccessControl::FromConfig(config);
  ASSERT_TRUE(access.ok()) << access.error().message;
  const AccessControl& a = *access;  // the server's guard holds it while tokens rotate
  ASSERT_TRUE(a.Find(kAliceToken).has_value());

  // Rotated: bob in, alice out.
  std::ofstream(file) << "- name: bob\n  role: viewer\n  token: " << kBobToken << "\n";
  auto reloaded = access->ReloadTokens(config);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(*reloaded, 1u);
  EXPECT_FALSE(a.Find(kAliceToken).has_value());
  ASSERT_TRUE(a.Find(kBobToken).has_value());
  EXPECT_EQ(a.Find(kBobToken)->name, "bob");

  // A broken file: refused with its position, bob stays.
  std::ofstream(file) << "- name: carol\n  role: boss\n  token: carol-0123456789abcdef\n";
  auto broken = access->ReloadTokens(config);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("tokens.yaml:1: role: unknown role \"boss\""),
            std::string::npos)
      << broken.error().message;
  EXPECT_TRUE(a.Find(kBobToken).has_value());

  // An empty file would open the API on 0.0.0.0: refused, bob stays.
  std::ofstream(file) << "[]\n";
  auto emptied = access->ReloadTokens(config);
  ASSERT_FALSE(emptied.ok());
  EXPECT_NE(emptied.error().message.find("not a loopback address"), std::string::npos);
  EXPECT_FALSE(a.open());
  EXPECT_TRUE(a.Find(kBobToken).has_value());
}

TEST(AuthTest, WithoutTokensOnlyLoopbackIsOpen) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.3.2.1"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("192.168.1.10"));

  Config config;
  config.http.host = "127.0.0.1";
  auto open = AccessControl::FromConfig(config);
  ASSERT_TRUE(open.ok()) << open.error().message;
  EXPECT_TRUE(open->open());
  ASSERT_EQ(open->warnings().size(), 1u);
  EXPECT_NE(open->warnings()[0].find("no API tokens"), std::string::npos);

  config.http.host = "0.0.0.0";
  auto refused = AccessControl::FromConfig(config);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("http.listen 0.0.0.0:8080 is not a loopback address"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("http.insecure: true"), std::string::npos);
  config.http.host = "::";
  EXPECT_FALSE(AccessControl::FromConfig(config).ok());

  config.http.insecure = true;
  auto insecure = AccessControl::FromConfig(config);
  ASSERT_TRUE(insecure.ok());
  EXPECT_TRUE(insecure->open());
  ASSERT_EQ(insecure->warnings().size(), 1u);
  EXPECT_NE(insecure->warnings()[0].find("INSECURE"), std::string::npos);

  config.http.insecure = false;
  config.http.tokens = {{"alice", "admin", kAliceToken, "", "vigil.yaml:3"}};
  auto with_tokens = AccessControl::FromConfig(config);
  ASSERT_TRUE(with_tokens.ok());
  EXPECT_FALSE(with_tokens->open());
  EXPECT_TRUE(with_tokens->warnings().empty());
}

TEST(AuthTest, RolesAllowWhatTheDocsSay) {
  EXPECT_TRUE(RoleAllows(Role::kResponder, Role::kViewer));
  EXPECT_TRUE(RoleAllows(Role::kRuleAdmin, Role::kViewer));
  EXPECT_FALSE(RoleAllows(Role::kIngest, Role::kViewer));
  EXPECT_FALSE(RoleAllows(Role::kResponder, Role::kRuleAdmin));
  EXPECT_FALSE(RoleAllows(Role::kRuleAdmin, Role::kResponder));
  EXPECT_FALSE(RoleAllows(Role::kViewer, Role::kIngest));
  for (Role needed :
       {Role::kViewer, Role::kResponder, Role::kRuleAdmin, Role::kIngest, Role::kAdmin}) {
    EXPECT_TRUE(RoleAllows(Role::kAdmin, needed));
    EXPECT_EQ(ParseRole(RoleName(needed)), needed);
  }
  EXPECT_FALSE(ParseRole("root"));
}

}  // namespace
}  // namespace vigil::daemon
