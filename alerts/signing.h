// The byte-level helpers that channel signatures are built from: HMAC-SHA256 (OpenSSL),
// base64, hex and RFC 3986 percent-encoding. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil::alerts {

// HMAC-SHA256 of `message` keyed by `key`: 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view message);

// Lower-case hex of raw bytes.
std::string HexLower(std::string_view bytes);

// Standard base64 (RFC 4648, with padding, no line breaks).
std::string Base64(std::string_view bytes);
// The inverse; nullopt when `text` is not valid base64 (whitespace is not skipped).
std::optional<std::string> Base64Decode(std::string_view text);

// Percent-encodes every byte outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~) as
// %XX with upper-case hex. For base64 text this gives the same as Python's quote_plus and
// Java's URLEncoder, which is what DingTalk's published samples use.
std::string PercentEncode(std::string_view text);

}  // namespace vigil::alerts
