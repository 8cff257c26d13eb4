// Checksums and shape checks that a regex cannot express. They run only on values
// that a rule's regex extracted, never on whole posts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::rules {

enum class Validator {
  kLuhn,          // bank card numbers: 13-19 digits, Luhn mod 10 (see validators.cc on UnionPay)
  kCnResidentId,  // GB 11643-1999 resident identity number: 18 chars, region, birth date, check char
  kCnUscc,        // GB 32100-2015 unified social credit code: 18 chars, mod-31 check char
  kIban,          // ISO 13616 IBAN: country length table and mod-97 == 1
  kCnMobile,      // mainland China mobile number: 11 digits, 1[3-9]x, optional +86/0086 prefix
  kEmail,         // addr-spec with a dotted domain; no quoted local parts
  kIpv4,          // dotted quad, each part 0-255, no leading zeros
};

// The names rule files use ("luhn", "cn_resident_id", ...), in enum order.
const std::vector<std::string_view>& ValidatorNames();
std::optional<Validator> ParseValidator(std::string_view name);
std::string_view ValidatorName(Validator validator);

// True when `value` passes. `value` is text as the matcher extracted it from the
// normalised post, so letters are lower case (a resident ID ends in 'x', not 'X') and
// digits are ASCII. Separators inside the value (spaces or dashes in a card number or
// IBAN) are allowed and ignored. Never throws; any byte string is a valid argument.
bool Validate(Validator validator, std::string_view value);

// The masked rendering of a sensitive value, computed from the ORIGINAL text of the
// span so that the shape the reader saw is kept:
//   cn_resident_id  110105199001010021 -> 110105********0021 (first 6, last 4)
//   cn_mobile       13812345678        -> 138****5678        (first 3, last 4)
//   luhn            6222021234567890   -> ************7890   (last 4)
//   iban            DE89370400440532013000 -> DE89**************3000
//   email           zhang.san@example.com -> z********@example.com
//   ipv4            192.168.10.25      -> 192.*.*.25
//   no validator    keeps the first and last quarter (at most 4 chars each) of a value of
//                   8+ characters, masks everything of a shorter one.
// Masking works on characters (UTF-8 code points), never splits one, and keeps
// separators (spaces, dashes, dots) where they were. The output never contains more
// than the kept characters of the input.
std::string Mask(std::optional<Validator> validator, std::string_view original_value);

}  // namespace vigil::rules
