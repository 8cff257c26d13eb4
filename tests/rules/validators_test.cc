#include "rules/validators.h"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace vigil::rules {
namespace {

// Every check value below was computed independently (a short Python script), not
// taken from memory; the published examples are the GB 11643 sample ID, the card
// networks' test numbers and the IBAN Registry's examples.

void ExpectAll(Validator validator, const std::vector<std::string_view>& values, bool expected) {
  for (std::string_view value : values) {
    EXPECT_EQ(Validate(validator, value), expected)
        << ValidatorName(validator) << " on \"" << value << "\" should be "
        << (expected ? "valid" : "invalid");
  }
}

TEST(ValidatorNamesTest, RoundTripInEnumOrder) {
  const std::vector<std::string_view> expected = {"luhn",      "cn_resident_id", "cn_uscc", "iban",
                                                  "cn_mobile", "email",          "ipv4"};
  ASSERT_EQ(ValidatorNames(), expected);
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto parsed = ParseValidator(expected[i]);
    ASSERT_TRUE(parsed.has_value()) << expected[i];
    EXPECT_EQ(static_cast<size_t>(*parsed), i);
    EXPECT_EQ(ValidatorName(*parsed), expected[i]);
  }
  EXPECT_FALSE(ParseValidator("").has_value());
  EXPECT_FALSE(ParseValidator("Luhn").has_value());
  EXPECT_FALSE(ParseValidator("luhn ").has_value());
  EXPECT_FALSE(ParseValidator("phone").has_value());
}

TEST(LuhnTest, AcceptsTestCardNumbers) {
  ExpectAll(Validator::kLuhn,
            {
                "4111111111111111",     // Visa test card
                "5555555555554444",     // Mastercard test card
                "378282246310005",      // American Express test card, 15 digits
                "4222222222222",        // Visa, 13 digits (the minimum)
                "6200000000000005",     // UnionPay test card
                "6222021234567894",     // UnionPay 622202 BIN, Luhn-valid
                "6228480012345678903",  // UnionPay, 19 digits (the maximum)
            },
            true);
}

TEST(LuhnTest, AcceptsSingleSpacesOrDashesBetweenDigits) {
  ExpectAll(Validator::kLuhn,
            {"4111 1111 1111 1111", "4111-1111-1111-1111", "4111 1111-1111 1111",
             "6228 4800 1234 5678 903"},
            true);
  ExpectAll(
      Validator::kLuhn,
      {"4111  1111 1111 1111", "4111--1111-1111-1111", " 4111111111111111", "4111111111111111 ",
       "-4111111111111111", "4111111111111111-", "4111_1111_1111_1111", "4111.1111.1111.1111"},
      false);
}

TEST(LuhnTest, RejectsBadChecksumsAndLengths) {
  ExpectAll(Validator::kLuhn,
            {
                "4111111111111112",      // last digit changed
                "4111111111111121",      // two digits swapped
                "6222021234567890",      // the header's masking example: not Luhn-valid
                "411111111117",          // Luhn-valid but 12 digits
                "41111111111111111115",  // Luhn-valid but 20 digits
                "0000000000000000",      // passes mod 10, never a card
                "411111111111111a",
                "４１１１１１１１１１１１１１１１",  // full-width digits never reach a validator
                "",
                "-",
                " ",
            },
            false);
}

// GB 11643 IDs built around one defect each, every one with a correct check character,
// so that only the check under test can reject them.
TEST(CnResidentIdTest, AcceptsValidIds) {
  ExpectAll(Validator::kCnResidentId,
            {
                "11010519491231002X",  // the sample printed in GB 11643-1999
                "11010519491231002x",  // as the normaliser hands it over
                "11010119900307803X",
                "110105200002291235",  // 2000 is a leap year
                "110105202402291233",
                "110105210001011237",  // 2100 is inside the accepted range
                "830000199001011234",  // residence permit for Taiwan residents
                "810000198512154562",  // residence permit for Hong Kong residents
            },
            true);
}

TEST(CnResidentIdTest, RejectsBadChecksumDateProvinceAndShape) {
  ExpectAll(Validator::kCnResidentId,
            {
                "110105194912310020",   // check character changed
                "11010519491231003X",   // one digit changed
                "110105199001010021",   // the header's masking example: check should be 9
                "110105202302301238",   // 2023-02-30
                "110105202302291236",   // 2023 is not a leap year
                "110105190002291239",   // 1900 is not a leap year
                "11010519901301123X",   // month 13
                "110105199001001237",   // day 0
                "110105199004311230",   // April 31
                "110105189912311237",   // before 1900
                "110105210101011234",   // after 2100
                "990105194912310023",   // no province 99
                "910105194912310029",   // 91 is not a GB/T 2260 code
                "000105194912310024",   // no province 00 (a zero-filled table slot must not match)
                "11010519491231002",    // 17 characters
                "11010519491231002XX",  // 19 characters
                "1101051949123100XX",   // letter inside the first 17
                "11010519491231002Y",  "",
            },
            false);
}

TEST(CnUsccTest, AcceptsValidCodes) {
  ExpectAll(Validator::kCnUscc,
            {
                "91350100M000100Y43",  // the example printed with GB 32100-2015
                "91350100m000100y43",  // as the normaliser hands it over
                "91110000600037341L", "91440300708461136T", "914403001922038216",
                "N2110000MA00000014",  // agriculture department code
                "Y1110000MA0000001Y",  // "other" department code
                "91110000MA00000240",  // sum divisible by 31: check value 31 maps to '0'
            },
            true);
}

TEST(CnUsccTest, RejectsBadChecksumCharsetAndShape) {
  ExpectAll(Validator::kCnUscc,
            {
                "91350100M000100Y44",  // check character changed
                "91350100M000100Y34",  // two characters swapped
                "91350100M000100Y4O",  // O is not in the code's alphabet
                "91350100M00010OY43",
                "91350100M000100I43",
                "H1350100M000100Y4T",   // H is no registration department (check correct)
                "01350100M000100Y4C",   // neither is 0 (check correct)
                "9135A100M000100Y4Y",   // letter in the division code (check correct)
                "91350100M000100Y4",    // 17 characters
                "91350100M000100Y433",  // 19 characters
                "91350100M000100Y4 ",
                "",
            },
            false);
}

TEST(IbanTest, AcceptsRegistryExamples) {
  ExpectAll(Validator::kIban,
            {
                "GB82WEST12345698765432", "DE89370400440532013000", "GB29NWBK60161331926819",
                "NL91ABNA0417164300", "FR1420041010050500013M02606", "BE68539007547034",
                "CH9300762011623852957", "BR1800360305000010009795493C1",
                "NO9386011117947",                    // shortest: 15
                "MT84MALT011000012345MTLCAST001S",    // 31
                "LC55HEMM000100010012001200023015",   // 32
                "RU0204452560040702810412345678901",  // longest registered: 33
            },
            true);
}

TEST(IbanTest, IsCaseInsensitiveAndAcceptsGroupSeparators) {
  ExpectAll(Validator::kIban,
            {"gb82west12345698765432", "Gb82WeSt12345698765432", "GB82 WEST 1234 5698 7654 32",
             "de89 3704 0044 0532 0130 00", "DE89-3704-0044-0532-0130-00"},
            true);
  ExpectAll(Validator::kIban,
            {"GB82  WEST 1234 5698 7654 32", " GB82WEST12345698765432", "GB82WEST12345698765432 "},
            false);
}

TEST(IbanTest, RejectsBadChecksumLengthCountryAndCheckDigits) {
  ExpectAll(Validator::kIban,
            {
                "GB82WEST12345698765433",   // one digit changed
                "GB28WEST12345698765432",   // check digits swapped
                "GB81WEST12345698765432",   // remainder 0, not 1
                "DE8937040044053201300",    // 21 characters for DE
                "DE893704004405320130000",  // 23
                "XX82WEST12345698765432",   // no such country
                "GB01WEST12345698760003",   // passes mod 97 (as GB98 does), but 01 is never issued
                "GB99WEST12345698760082",   // passes mod 97 (as GB02 does), but 99 is never issued
                "GBX2WEST12345698765432",
                "1B82WEST12345698765432",
                "GB82WEST1234569876543!",
                "GB82",
                "",
            },
            false);
  EXPECT_TRUE(Validate(Validator::kIban, "GB98WEST12345698760003"));
  EXPECT_TRUE(Validate(Validator::kIban, "GB02WEST12345698760082"));
}

TEST(CnMobileTest, AcceptsNumbersPrefixesAndGrouping) {
  ExpectAll(Validator::kCnMobile,
            {"13812345678", "19912345678", "15000000000", "+8613812345678", "+86 13812345678",
             "+86-13812345678", "008613812345678", "0086 13812345678", "8613812345678",
             "138-1234-5678", "138 1234 5678", "+86 138 1234 5678", "+86-138-1234-5678"},
            true);
}

TEST(CnMobileTest, RejectsWrongDigitsPrefixesAndGrouping) {
  ExpectAll(Validator::kCnMobile,
            {
                "12812345678",  // second digit 2
                "10812345678",
                "23812345678",      // first digit 2
                "1381234567",       // 10 digits
                "138123456789",     // 12 digits
                "+85213812345678",  // Hong Kong prefix
                "+8612812345678",
                "+86  13812345678",  // two separators
                "138--1234-5678",
                "1381-234-5678",  // not grouped 3-4-4
                "13812-345678",
                " 13812345678",
                "13812345678 ",
                "+86",
                "1381234567a",
                "",
            },
            false);
}

TEST(EmailTest, AcceptsPragmaticAddresses) {
  ExpectAll(Validator::kEmail,
            {"zhang.san@example.com", "a@b.co", "user+tag@mail.example.org", "o'brien@example.ie",
             "x_y-z@sub-domain.example.cn", "a@example.xn--fiqs8s", "Zhang.San@Example.COM",
             "1234567@qq.com"},
            true);
}

TEST(EmailTest, RejectsMalformedAddresses) {
  const std::string local65(65, 'a');
  const std::string label64(64, 'a');
  const std::string local64 = std::string(64, 'a') + "@example.com";
  EXPECT_TRUE(Validate(Validator::kEmail, local64));
  ExpectAll(Validator::kEmail,
            {
                ".a@example.com",
                "a.@example.com",
                "a..b@example.com",
                "@example.com",
                "a@",
                "a",
                "a@example",  // one label
                "a@-example.com",
                "a@example-.com",
                "a@exa_mple.com",
                "a@example..com",
                "a@.example.com",
                "a@example.com.",
                "a@example.c",     // one-letter TLD
                "a@example.c0m",   // TLD with a digit
                "a@example.xn--",  // empty punycode
                "a@xn--fiqs8s",    // punycode TLD alone is still one label
                "a@@example.com",
                "a@b@example.com",
                "a b@example.com",
                "\"quoted\"@example.com",
                "张三@example.com",
                "a@例子.com",
                "a(comment)@example.com",
                "",
            },
            false);
  EXPECT_FALSE(Validate(Validator::kEmail, local65 + "@example.com"));
  EXPECT_FALSE(Validate(Validator::kEmail, "a@" + label64 + ".com"));
}

TEST(Ipv4Test, AcceptsDottedQuads) {
  ExpectAll(Validator::kIpv4,
            {"192.168.10.25", "0.0.0.0", "255.255.255.255", "10.0.0.1", "1.2.3.4"}, true);
}

TEST(Ipv4Test, RejectsEverythingElse) {
  ExpectAll(Validator::kIpv4,
            {"256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.00", "00.1.2.3", "1.2.3", "1.2.3.4.5",
             "1..2.3", "1.2.3.4.", ".1.2.3.4", "1.2.3.a", "1234.1.1.1", "1.2.3.1234", " 1.2.3.4",
             "1.2.3.-4", "1,2,3,4", "999.999.999.999", ""},
            false);
}

// Any byte string is a valid argument: nothing may crash, hang or read out of bounds
// (run under -fsanitize=address,undefined), and garbage is rejected.
TEST(ValidateTest, SurvivesGarbageTruncationAndHugeInputs) {
  const std::vector<std::string_view> samples = {
      "11010519491231002X",  "91350100M000100Y43",    "GB82 WEST 1234 5698 7654 32",
      "+86 138-1234-5678",   "zhang.san@example.com", "192.168.10.25",
      "4111-1111-1111-1111",
  };
  for (Validator v :
       {Validator::kLuhn, Validator::kCnResidentId, Validator::kCnUscc, Validator::kIban,
        Validator::kCnMobile, Validator::kEmail, Validator::kIpv4}) {
    for (std::string_view sample : samples) {
      for (size_t n = 0; n <= sample.size(); ++n) Validate(v, sample.substr(0, n));
      for (size_t n = 0; n <= sample.size(); ++n) Validate(v, sample.substr(n));
    }
    EXPECT_FALSE(Validate(v, std::string(1 << 20, '1'))) << ValidatorName(v);
    EXPECT_FALSE(Validate(v, std::string(1 << 20, '.'))) << ValidatorName(v);
    std::string grouped;
    for (int i = 0; i < 100000; ++i) grouped += "1111 ";
    grouped += "1";
    EXPECT_FALSE(Validate(v, grouped)) << ValidatorName(v);
    EXPECT_FALSE(Validate(v, std::string_view("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 18)))
        << ValidatorName(v);
    EXPECT_FALSE(Validate(v, "\xff\xfe\xfd\x80\xc0\xaf")) << ValidatorName(v);
  }
  // A NUL inside an otherwise valid value is not a separator.
  EXPECT_FALSE(Validate(Validator::kLuhn, std::string_view("4111111111111111\0", 17)));
  EXPECT_FALSE(Validate(Validator::kCnResidentId, std::string_view("11010519491231002\0", 18)));
  EXPECT_FALSE(Validate(Validator::kIpv4, std::string_view("1.2.3.4\0", 8)));

  std::mt19937 rng(20240229);
  const std::string alphabet = "0123456789xX+-. @abcdefgz\x80\xff";
  for (int round = 0; round < 20000; ++round) {
    std::string value(rng() % 40, '\0');
    for (char& c : value) c = alphabet[rng() % alphabet.size()];
    for (int v = 0; v < 7; ++v) Validate(static_cast<Validator>(v), value);
  }
  // Out-of-range enum values are rejected, not dereferenced.
  EXPECT_FALSE(Validate(static_cast<Validator>(99), "4111111111111111"));
  EXPECT_EQ(ValidatorName(static_cast<Validator>(99)), "unknown");
}

// ---------------------------------------------------------------------------
// Mask

TEST(MaskTest, HeaderExamples) {
  EXPECT_EQ(Mask(Validator::kCnResidentId, "110105199001010021"), "110105********0021");
  EXPECT_EQ(Mask(Validator::kCnMobile, "13812345678"), "138****5678");
  EXPECT_EQ(Mask(Validator::kLuhn, "6222021234567890"), "************7890");
  EXPECT_EQ(Mask(Validator::kIban, "DE89370400440532013000"), "DE89**************3000");
  EXPECT_EQ(Mask(Validator::kEmail, "zhang.san@example.com"), "z********@example.com");
  EXPECT_EQ(Mask(Validator::kIpv4, "192.168.10.25"), "192.*.*.25");
}

TEST(MaskTest, ResidentId) {
  EXPECT_EQ(Mask(Validator::kCnResidentId, "11010519491231002X"), "110105********002X");
  EXPECT_EQ(Mask(Validator::kCnResidentId, "11010519491231002x"), "110105********002x");
  EXPECT_EQ(Mask(Validator::kCnResidentId, "１１０１０５１９４９１２３１００２Ｘ"),
            "１１０１０５********００２Ｘ");
  EXPECT_EQ(Mask(Validator::kCnResidentId, "110105 19491231 002X"), "110105 ******** 002X");
}

TEST(MaskTest, MobileKeepsPrefixAndSeparators) {
  EXPECT_EQ(Mask(Validator::kCnMobile, "138-1234-5678"), "138-****-5678");
  EXPECT_EQ(Mask(Validator::kCnMobile, "138 1234 5678"), "138 **** 5678");
  EXPECT_EQ(Mask(Validator::kCnMobile, "+8613812345678"), "+86138****5678");
  EXPECT_EQ(Mask(Validator::kCnMobile, "+86 138-1234-5678"), "+86 138-****-5678");
  EXPECT_EQ(Mask(Validator::kCnMobile, "008613812345678"), "0086138****5678");
  EXPECT_EQ(Mask(Validator::kCnMobile, "86-13812345678"), "86-138****5678");
  EXPECT_EQ(Mask(Validator::kCnMobile, "１３８１２３４５６７８"), "１３８****５６７８");
  EXPECT_EQ(Mask(Validator::kCnMobile, "＋８６ １３８－１２３４－５６７８"),
            "＋８６ １３８－****－５６７８");
  // A prefix that is not +86/0086/86 is hidden, not shown.
  EXPECT_EQ(Mask(Validator::kCnMobile, "+85213812345678"), "****138****5678");
  EXPECT_EQ(Mask(Validator::kCnMobile, "(+86)13812345678"), "*****138****5678");
}

TEST(MaskTest, CardsAndIbansKeepGrouping) {
  EXPECT_EQ(Mask(Validator::kLuhn, "6222 0212 3456 7890"), "**** **** **** 7890");
  EXPECT_EQ(Mask(Validator::kLuhn, "6222-0212-3456-7890"), "****-****-****-7890");
  EXPECT_EQ(Mask(Validator::kLuhn, "６２２２０２１２３４５６７８９０"), "************７８９０");
  EXPECT_EQ(Mask(Validator::kLuhn, "６２２２　０２１２　３４５６　７８９０"),
            "****　****　****　７８９０");
  EXPECT_EQ(Mask(Validator::kIban, "DE89 3704 0044 0532 0130 00"), "DE89 **** **** **** **30 00");
  EXPECT_EQ(Mask(Validator::kIban, "gb82 west 1234 5698 7654 32"), "gb82 **** **** **** **54 32");
}

TEST(MaskTest, Email) {
  EXPECT_EQ(Mask(Validator::kEmail, "a@example.com"), "a@example.com");
  EXPECT_EQ(Mask(Validator::kEmail, "ab@example.com"), "a*@example.com");
  EXPECT_EQ(Mask(Validator::kEmail, "zhang＠example.com"), "z****＠example.com");
  EXPECT_EQ(Mask(Validator::kEmail, "张三丰@例子.中国"), "张**@例子.中国");
  // Without a usable '@' it is masked like any other value.
  EXPECT_EQ(Mask(Validator::kEmail, "zhangsan.example.com"), "zhan****.******e.com");
  EXPECT_EQ(Mask(Validator::kEmail, "@example.com"), "@e******.*om");
}

TEST(MaskTest, Ipv4) {
  EXPECT_EQ(Mask(Validator::kIpv4, "10.0.0.1"), "10.*.*.1");
  EXPECT_EQ(Mask(Validator::kIpv4, "255.255.255.255"), "255.*.*.255");
  EXPECT_EQ(Mask(Validator::kIpv4, "１９２．１６８．１０．２５"), "１９２．*．*．２５");
  EXPECT_EQ(Mask(Validator::kIpv4, "1.2.3"), "*.*.*");
  EXPECT_EQ(Mask(Validator::kIpv4, "1..2.3"), "*..*.*");
}

TEST(MaskTest, DefaultRule) {
  EXPECT_EQ(Mask(std::nullopt, ""), "");
  EXPECT_EQ(Mask(std::nullopt, "abcdefg"), "*******");
  EXPECT_EQ(Mask(std::nullopt, "abcdefgh"), "ab****gh");
  EXPECT_EQ(Mask(std::nullopt, "abcdefghijkl"), "abc******jkl");
  EXPECT_EQ(Mask(std::nullopt, "abcdefghijklmnopqrst"), "abcd************qrst");
  EXPECT_EQ(Mask(std::nullopt, "张三丰李四王五赵"), "张三****五赵");
  EXPECT_EQ(Mask(std::nullopt, "张三"), "**");
  EXPECT_EQ(Mask(std::nullopt, "john smith"), "jo** ***th");
  EXPECT_EQ(Mask(std::nullopt, "a-b-c-d-e-f-g"), "*-*-*-*-*-*-*");
  // The credit code has no shape of its own in the contract: default rule.
  EXPECT_EQ(Mask(Validator::kCnUscc, "91350100M000100Y43"), "9135**********0Y43");
}

TEST(MaskTest, ShortValuesNeverRevealTheirShapeKeeps) {
  // Too short for the validator's shape: the default rule hides everything under 8.
  EXPECT_EQ(Mask(Validator::kLuhn, "1234"), "****");
  EXPECT_EQ(Mask(Validator::kLuhn, "12345678"), "****5678");
  EXPECT_EQ(Mask(Validator::kCnResidentId, "110105"), "******");
  EXPECT_EQ(Mask(Validator::kIban, "DE8937"), "******");
  EXPECT_EQ(Mask(Validator::kCnMobile, "1381234"), "*******");
  EXPECT_EQ(Mask(Validator::kEmail, "a@b"), "a@b");
}

TEST(MaskTest, BrokenUtf8IsNeverCopiedThrough) {
  // 9 characters: the two stray bytes count as one each; kept ones become U+FFFD.
  EXPECT_EQ(Mask(std::nullopt,
                 "\xff"
                 "abcdefg\xfe"),
            "\xEF\xBF\xBD"
            "a*****g\xEF\xBF\xBD");
  // A truncated 中 (E4 B8 AD) and an overlong '/' are masked byte by byte.
  EXPECT_EQ(Mask(std::nullopt, "\xe4\xb8"), "**");
  EXPECT_EQ(Mask(std::nullopt, "\xc0\xaf"), "**");
  // A surrogate encoded in UTF-8 is not a character either.
  EXPECT_EQ(Mask(std::nullopt, "\xed\xa0\x80"), "***");
}

// Decodes well-formed UTF-8; returns false on anything else.
bool DecodeStrict(std::string_view s, std::vector<char32_t>& out) {
  for (size_t i = 0; i < s.size();) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = b(i);
    size_t n = lead < 0x80         ? 1
               : (lead >> 5) == 6  ? 2
               : (lead >> 4) == 14 ? 3
               : (lead >> 3) == 30 ? 4
                                   : 0;
    if (n == 0 || i + n > s.size()) return false;
    char32_t cp = n == 1 ? lead : lead & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      if ((b(i + k) & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out.push_back(cp);
    i += n;
  }
  return true;
}

// On random mixtures of digits, letters, CJK, full-width forms, separators and broken
// bytes: the output is valid UTF-8, has one character per input character (IPv4 aside),
// and each output character is a '*' or the input's own character at that position.
TEST(MaskTest, PropertyKeepsPositionsAndRevealsNothingElse) {
  const std::vector<std::string> pieces = {"1",  "9",  "a",    "X",        "@",  "+",  " ",
                                           "-",  ".",  "张",   "１",       "＋", "－", "　",
                                           "．", "＠", "\xff", "\xe4\xb8", "😀"};
  std::mt19937 rng(7);
  for (int round = 0; round < 5000; ++round) {
    std::string value;
    const size_t parts = rng() % 30;
    for (size_t i = 0; i < parts; ++i) value += pieces[rng() % pieces.size()];
    for (int v = -1; v < 7; ++v) {
      if (v == static_cast<int>(Validator::kIpv4)) continue;
      const std::optional<Validator> validator =
          v < 0 ? std::nullopt : std::optional<Validator>(static_cast<Validator>(v));
      const std::string masked = Mask(validator, value);
      std::vector<char32_t> out;
      ASSERT_TRUE(DecodeStrict(masked, out)) << "invalid UTF-8 for \"" << value << "\"";
      // Re-encode the input leniently: each bad byte is U+FFFD, as Mask keeps it.
      std::string repaired;
      for (size_t i = 0; i < value.size();) {
        std::vector<char32_t> one;
        bool ok = false;
        for (size_t n = 1; n <= 4 && i + n <= value.size() && !ok; ++n) {
          one.clear();
          ok = DecodeStrict(value.substr(i, n), one);
          if (ok) repaired += value.substr(i, n), i += n;
        }
        if (!ok) repaired += "\xEF\xBF\xBD", ++i;
      }
      std::vector<char32_t> in;
      ASSERT_TRUE(DecodeStrict(repaired, in));
      ASSERT_EQ(out.size(), in.size()) << "\"" << value << "\" -> \"" << masked << "\"";
      size_t shown = 0;
      for (size_t i = 0; i < in.size(); ++i) {
        EXPECT_TRUE(out[i] == U'*' || out[i] == in[i])
            << "\"" << value << "\" -> \"" << masked << "\"";
        if (out[i] != U'*' && out[i] != in[i]) break;
        const bool separator = in[i] == U' ' || in[i] == U'-' || in[i] == U'.' || in[i] == U'　' ||
                               in[i] == U'－' || in[i] == U'．';
        if (out[i] == in[i] && !separator && in[i] != U'*') ++shown;
      }
      // The most any shape keeps: 8 (default), 10 (ID), 7 + a 4-char prefix (mobile);
      // the e-mail shape keeps its domain, so it is bounded by the input instead.
      if (v != static_cast<int>(Validator::kEmail)) {
        EXPECT_LE(shown, 11u) << "\"" << value << "\"";
      }
    }
  }
}

}  // namespace
}  // namespace vigil::rules
