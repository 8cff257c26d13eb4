#include "rules/validators.h"

#include <array>
#include <cstddef>
#include <cstdint>

// Every validator here reads its argument strictly by index inside [0, size()), never
// allocates, and does work linear in the input, so an attacker-sized or garbage value
// costs nothing but a quick rejection. Masking lives in masking.cc.

namespace vigil::rules {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }
bool IsGroupSeparator(char c) { return c == ' ' || c == '-'; }

// Digits of `s[pos, pos + len)` as a number. REQUIRES: they are all ASCII digits.
int Number(std::string_view s, size_t pos, size_t len) {
  int n = 0;
  for (size_t i = pos; i < pos + len; ++i) n = n * 10 + (s[i] - '0');
  return n;
}

// A value with its group separators removed, held inline: no validator needs more
// than 34 significant characters (the longest IBAN).
struct Compacted {
  std::array<char, 40> chars{};
  size_t size = 0;
};

// Copies the significant characters of `value`, dropping single spaces or dashes
// that sit between two of them ("4111 1111-1111 1111"). Fails on any other
// character, on a leading, trailing or doubled separator, and as soon as more than
// `max_size` significant characters are seen.
std::optional<Compacted> Compact(std::string_view value, size_t max_size,
                                 bool (*significant)(char)) {
  Compacted out;
  bool after_separator = false;
  for (char c : value) {
    if (IsGroupSeparator(c)) {
      if (out.size == 0 || after_separator) return std::nullopt;
      after_separator = true;
      continue;
    }
    if (!significant(c) || out.size == max_size || out.size == out.chars.size())
      return std::nullopt;
    out.chars[out.size++] = c;
    after_separator = false;
  }
  if (after_separator) return std::nullopt;
  return out;
}

// ---------------------------------------------------------------------------
// luhn
//
// UnionPay caveat: some UnionPay cards (BIN 62xxxx), mostly older domestic debit
// cards, carry numbers that are not Luhn-valid, so a rule validated with `luhn` can
// miss them. We keep the check strict anyway: without the checksum any 16-19 digit
// run (order numbers, tracking numbers, timestamps) would page the legal owner, and
// for paging a false positive is worse than the miss. A rule that must catch those
// cards can match them by BIN with a regex and no validator.
bool ValidLuhn(std::string_view value) {
  const auto digits = Compact(value, 19, IsDigit);
  if (!digits || digits->size < 13) return false;
  int sum = 0;
  bool all_zero = true;
  for (size_t i = 0; i < digits->size; ++i) {
    int d = digits->chars[digits->size - 1 - i] - '0';
    all_zero = all_zero && d == 0;
    if (i % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  // All zeros passes mod 10 but is no card number; it shows up as filler in forms.
  return !all_zero && sum % 10 == 0;
}

// ---------------------------------------------------------------------------
// cn_resident_id (GB 11643-1999)

// Province-level codes of GB/T 2260 (the first two digits of the address code),
// plus 81/82/83: residence permits for Hong Kong, Macao and Taiwan residents
// (issued since 2018) use 810000/820000/830000. 91, which some validators accept as
// "abroad", is in no edition of GB/T 2260 and is rejected.
bool IsProvinceCode(int code) {
  static constexpr uint8_t kProvinces[] = {
      11, 12, 13, 14, 15,          // 华北
      21, 22, 23,                  // 东北
      31, 32, 33, 34, 35, 36, 37,  // 华东
      41, 42, 43, 44, 45, 46,      // 中南
      50, 51, 52, 53, 54,          // 西南
      61, 62, 63, 64, 65,          // 西北
      71, 81, 82, 83,              // 台湾, 香港, 澳门, 台湾居民居住证
  };
  for (uint8_t p : kProvinces) {
    if (p == code) return true;
  }
  return false;
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// A calendar date that exists, in the years 1900-2100. The upper bound is loose on
// purpose: "not after today" would make a validator's answer depend on the clock.
bool IsBirthDate(int year, int month, int day) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1) return false;
  const int days = kDays[size_t(month - 1)] + (month == 2 && IsLeapYear(year) ? 1 : 0);
  return day <= days;
}

bool ValidResidentId(std::string_view value) {
  if (value.size() != 18) return false;
  static constexpr std::array<int, 17> kWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                   3, 7, 9,  10, 5, 8, 4, 2};
  static constexpr std::string_view kCheckChars = "10X98765432";
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    if (!IsDigit(value[i])) return false;
    sum += (value[i] - '0') * kWeights[i];
  }
  if (!IsProvinceCode(Number(value, 0, 2))) return false;
  if (!IsBirthDate(Number(value, 6, 4), Number(value, 10, 2), Number(value, 12, 2))) return false;
  return ToUpper(value[17]) == kCheckChars[size_t(sum % 11)];
}

// ---------------------------------------------------------------------------
// cn_uscc (GB 32100-2015)

// The 31 characters of the code, in value order: digits and capitals without
// I, O, Z, S, V.
constexpr std::string_view kUsccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY";

int UsccValue(char c) {
  const size_t at = kUsccChars.find(ToUpper(c));
  return at == std::string_view::npos ? -1 : int(at);
}

// The registration-management department (first character), checked loosely:
// 1-9 and A-G as the brief for this check lists them, N (agriculture, for rural
// collective economic organisations) and Y (other).
bool IsUsccDepartment(char c) {
  c = ToUpper(c);
  return (c >= '1' && c <= '9') || (c >= 'A' && c <= 'G') || c == 'N' || c == 'Y';
}

bool ValidUscc(std::string_view value) {
  if (value.size() != 18 || !IsUsccDepartment(value[0])) return false;
  // Characters 3-8 are the administrative-division code: six digits.
  for (size_t i = 2; i < 8; ++i) {
    if (!IsDigit(value[i])) return false;
  }
  // Weights are 3^i mod 31.
  static constexpr std::array<int, 17> kWeights = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                                   29, 25, 13, 8,  24, 10, 30, 28};
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    const int v = UsccValue(value[i]);
    if (v < 0) return false;
    sum += v * kWeights[i];
  }
  const int check = (31 - sum % 31) % 31;
  return UsccValue(value[17]) == check;
}

// ---------------------------------------------------------------------------
// iban (ISO 13616)

struct IbanCountry {
  char code[3];
  uint8_t length;
};

// IBAN lengths by country, from the SWIFT IBAN Registry (release of 2024, which
// added HN, OM, YE and set NI to 28). Territories that use another country's
// prefix (AX -> FI, GG/IM/JE -> GB, the French overseas territories -> FR) have no
// entry of their own.
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HN", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
    {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20},
    {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20},
    {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25},
    {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
    {"YE", 30},
};

// The registered IBAN length for a country code in capitals, or 0.
size_t IbanLength(char first, char second) {
  for (const IbanCountry& country : kIbanCountries) {
    if (country.code[0] == first && country.code[1] == second) return country.length;
  }
  return 0;
}

bool ValidIban(std::string_view value) {
  auto iban = Compact(value, 34, IsAlnum);
  if (!iban || iban->size < 15) return false;
  auto& c = iban->chars;
  for (size_t i = 0; i < iban->size; ++i) c[i] = ToUpper(c[i]);
  if (!IsAlpha(c[0]) || !IsAlpha(c[1]) || !IsDigit(c[2]) || !IsDigit(c[3])) return false;
  if (IbanLength(c[0], c[1]) != iban->size) return false;
  // Check digits are 98 - (n mod 97), so 02..98; 00, 01 and 99 are never issued
  // even though 01 and 99 can satisfy the mod-97 test.
  const int check = (c[2] - '0') * 10 + (c[3] - '0');
  if (check < 2 || check > 98) return false;
  // ISO 7064 MOD 97-10 over BBAN + country + check digits, letters as 10..35,
  // reduced digit by digit so no big number is needed.
  int remainder = 0;
  for (size_t k = 0; k < iban->size; ++k) {
    const char ch = c[(k + 4) % iban->size];
    if (IsDigit(ch)) {
      remainder = (remainder * 10 + (ch - '0')) % 97;
    } else {
      remainder = (remainder * 100 + (ch - 'A' + 10)) % 97;
    }
  }
  return remainder == 1;
}

// ---------------------------------------------------------------------------
// cn_mobile

// Consumes `count` ASCII digits from the front of `s`.
bool TakeDigits(std::string_view& s, size_t count) {
  if (s.size() < count) return false;
  for (size_t i = 0; i < count; ++i) {
    if (!IsDigit(s[i])) return false;
  }
  s.remove_prefix(count);
  return true;
}

// Consumes one space or dash from the front of `s`, if there is one.
void SkipSeparator(std::string_view& s) {
  if (!s.empty() && IsGroupSeparator(s.front())) s.remove_prefix(1);
}

// [+86 | 0086 | 86][ |-] 1[3-9]x[ |-]xxxx[ |-]xxxx. The bare "86" prefix is not
// ambiguous: a mainland mobile number itself always starts with 1.
bool ValidCnMobile(std::string_view value) {
  std::string_view rest = value;
  bool prefixed = false;
  for (std::string_view prefix :
       {std::string_view("+86"), std::string_view("0086"), std::string_view("86")}) {
    if (rest.starts_with(prefix)) {
      rest.remove_prefix(prefix.size());
      prefixed = true;
      break;
    }
  }
  if (prefixed) SkipSeparator(rest);
  const std::string_view core = rest;
  if (!TakeDigits(rest, 3)) return false;
  SkipSeparator(rest);
  if (!TakeDigits(rest, 4)) return false;
  SkipSeparator(rest);
  if (!TakeDigits(rest, 4) || !rest.empty()) return false;
  return core[0] == '1' && core[1] >= '3' && core[1] <= '9';
}

// ---------------------------------------------------------------------------
// email

bool IsAtext(char c) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return IsAlnum(c) || kSpecials.find(c) != std::string_view::npos;
}

bool ValidLocalPart(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.')
    return false;
  for (size_t i = 0; i < local.size(); ++i) {
    if (local[i] == '.') {
      if (local[i - 1] == '.') return false;  // i > 0: the first char is not a dot
    } else if (!IsAtext(local[i])) {
      return false;
    }
  }
  return true;
}

bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
    return false;
  for (char c : label) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

bool ValidTopLevelLabel(std::string_view label) {
  const bool punycode = label.size() > 4 && (label[0] == 'x' || label[0] == 'X') &&
                        (label[1] == 'n' || label[1] == 'N') && label[2] == '-' && label[3] == '-';
  if (punycode) return true;
  if (label.size() < 2) return false;
  for (char c : label) {
    if (!IsAlpha(c)) return false;
  }
  return true;
}

// A pragmatic addr-spec: dot-atom local part (no quoted strings, no comments),
// ASCII only, and a domain of at least two LDH labels under an alphabetic or
// punycode top-level label. Length limits from RFC 5321.
bool ValidEmail(std::string_view value) {
  if (value.size() > 254) return false;
  const size_t at = value.find('@');
  if (at == std::string_view::npos || value.find('@', at + 1) != std::string_view::npos)
    return false;
  const std::string_view local = value.substr(0, at);
  const std::string_view domain = value.substr(at + 1);
  if (!ValidLocalPart(local) || domain.size() > 253) return false;
  size_t labels = 0;
  std::string_view rest = domain;
  while (true) {
    const size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (!ValidLabel(label)) return false;
    ++labels;
    if (dot == std::string_view::npos) return labels >= 2 && ValidTopLevelLabel(label);
    rest.remove_prefix(dot + 1);
  }
}

// ---------------------------------------------------------------------------
// ipv4

bool ValidIpv4(std::string_view value) {
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= value.size() || value[i] != '.') return false;
      ++i;
    }
    const size_t start = i;
    int number = 0;
    while (i < value.size() && IsDigit(value[i]) && i - start < 3)
      number = number * 10 + (value[i++] - '0');
    const size_t length = i - start;
    if (length == 0 || number > 255 || (length > 1 && value[start] == '0')) return false;
  }
  return i == value.size();
}

}  // namespace

const std::vector<std::string_view>& ValidatorNames() {
  static const auto& names = *new std::vector<std::string_view>{
      "luhn", "cn_resident_id", "cn_uscc", "iban", "cn_mobile", "email", "ipv4",
  };
  return names;
}

std::optional<Validator> ParseValidator(std::string_view name) {
  const auto& names = ValidatorNames();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<Validator>(i);
  }
  return std::nullopt;
}

std::string_view ValidatorName(Validator validator) {
  const auto& names = ValidatorNames();
  const auto index = static_cast<size_t>(validator);
  return index < names.size() ? names[index] : std::string_view("unknown");
}

bool Validate(Validator validator, std::string_view value) {
  switch (validator) {
    case Validator::kLuhn:
      return ValidLuhn(value);
    case Validator::kCnResidentId:
      return ValidResidentId(value);
    case Validator::kCnUscc:
      return ValidUscc(value);
    case Validator::kIban:
      return ValidIban(value);
    case Validator::kCnMobile:
      return ValidCnMobile(value);
    case Validator::kEmail:
      return ValidEmail(value);
    case Validator::kIpv4:
      return ValidIpv4(value);
  }
  return false;
}

}  // namespace vigil::rules
