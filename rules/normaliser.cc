// Text normaliser; the contract is in normaliser.h.
//
// Why it is fast: utf8proc is consulted once per code point when the first Normaliser is
// built, and what each code point becomes when it stands alone is stored in a two-stage
// table (code point >> 7 picks a 128-entry block; identical blocks are shared, so all of
// CJK Unified Ideographs costs one block). Each entry has a kind:
//   kCopy     the code point maps to itself (lower case, CJK ideographs, most symbols)
//   kReplace  it maps to a precomputed UTF-8 string (upper case, full width, ligatures)
//   kDrop     it maps to nothing (Default_Ignorable_Code_Point)
//   kSegment  its result depends on what precedes it: combining marks, conjoining jamo,
//             and anything whose decomposition starts with a non-starter or with a
//             starter that composes with the character before it (U+0B3E, ...)
// Every code point that is not kSegment has a composition boundary before it (UAX #15):
// nothing before it can interact with it or with what follows. The text therefore splits
// into segments, one boundary character followed by kSegment and kDrop characters, and
// segments normalise independently; a one-character segment normalises to its entry. When
// a kSegment character arrives, the output of the last boundary character is rolled back
// and the whole segment goes through utf8proc. Ordinary text rarely takes that path.
//
// Separators between CJK characters (options.strip_cjk_separators): a maximal run of
// separators (ignorables inside it do not interrupt it) is removed when the characters on
// both sides are CJK, i.e. normalise to Han ideographs, kana or Hangul syllables (exact
// ranges in IsCjkCodePoint). A source character is a separator when it is Unicode
// White_Space; or normalises to exactly one of  " # $ % & ' * + , - . / = @ \ ^ _ ` | ~
// (so full-width and small forms count too: ．－＿＊／｜～), except U+FF0C "，" and U+FE50,
// the ordinary comma of Chinese prose, whose removal would join clauses; or is one of the
// dots and dashes used as word splitters: · ‐ ‑ ‒ – — ― • ‧ − ∙ ⋅ ・ ･. Not separators:
// ! ? : ; brackets, and CJK sentence marks such as 。、「」: real punctuation, not evasion.
#include "rules/normaliser.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>

namespace vigil::rules {
namespace {

constexpr utf8proc_option_t kNfkcCasefold = static_cast<utf8proc_option_t>(
    UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);

// Entry layout: kind in bits 0-1, flags in bits 2-3, replacement length in bits 4-9 and
// replacement offset in bits 10-31.
enum Kind : uint32_t { kCopy = 0, kReplace = 1, kDrop = 2, kSegment = 3 };
constexpr uint32_t kKindMask = 3;
constexpr uint32_t kCjkBit = 1u << 2;
constexpr uint32_t kSeparatorBit = 1u << 3;
constexpr int kLengthShift = 4;
constexpr uint32_t kMaxReplacementLength = 63;
constexpr int kOffsetShift = 10;
constexpr uint32_t kMaxReplacementOffset = (1u << (32 - kOffsetShift)) - 1;

constexpr int kBlockBits = 7;
constexpr uint32_t kBlockSize = 1u << kBlockBits;
constexpr char32_t kCodeSpace = 0x110000;

// Replacements are copied 16 bytes at a time, so the pool has that much padding and the
// output always has room for the longest replacement plus 16.
constexpr size_t kCopyChunk = 16;
constexpr size_t kMaxEmit = kMaxReplacementLength + kCopyChunk + 1;
constexpr size_t kSlack = kMaxEmit;

// A segment longer than this many code points (only seen in adversarial "zalgo" text) is
// cut, so that utf8proc's quadratic reordering stays bounded. Real text never gets close.
constexpr size_t kMaxSegmentCodePoints = 256;
constexpr size_t kSegmentBuffer = 2048;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "vigil::rules::Normaliser: %s\n", what);
  std::abort();
}

bool IsSurrogate(char32_t cp) { return cp >= 0xD800 && cp <= 0xDFFF; }

// Default_Ignorable_Code_Point from DerivedCoreProperties.txt (Unicode 15). utf8proc
// ignores only the assigned ones; unassigned ones in these ranges are dropped too.
bool IsDefaultIgnorable(char32_t cp) {
  static constexpr std::pair<char32_t, char32_t> kRanges[] = {
      {0x00AD, 0x00AD},   {0x034F, 0x034F},  {0x061C, 0x061C}, {0x115F, 0x1160}, {0x17B4, 0x17B5},
      {0x180B, 0x180F},   {0x200B, 0x200F},  {0x202A, 0x202E}, {0x2060, 0x206F}, {0x3164, 0x3164},
      {0xFE00, 0xFE0F},   {0xFEFF, 0xFEFF},  {0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8}, {0x1BCA0, 0x1BCA3},
      {0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF}};
  for (const auto& [first, last] : kRanges) {
    if (cp >= first && cp <= last) return true;
  }
  return false;
}

bool IsCjkCodePoint(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0x3041 && c <= 0x3096) ||
         (c >= 0x309D && c <= 0x309F) || (c >= 0x30A1 && c <= 0x30FA) ||
         (c >= 0x30FC && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) ||
         (c >= 0x2E80 && c <= 0x2FDF) || c == 0x3005 || c == 0x3007 ||
         (c >= 0x3021 && c <= 0x3029) || (c >= 0x3038 && c <= 0x303B) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x1B000 && c <= 0x1B16F) ||
         (c >= 0x20000 && c <= 0x3FFFF);
}

bool IsSeparator(char32_t c, const std::string& normalised) {
  static constexpr std::string_view kAscii = "\"#$%&'*+,-./=@\\^_`|~";
  const bool white_space = (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
                           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
                           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
  const bool splitter = c == 0xB7 || (c >= 0x2010 && c <= 0x2015) || c == 0x2022 || c == 0x2027 ||
                        c == 0x2212 || c == 0x2219 || c == 0x22C5 || c == 0x30FB || c == 0xFF65;
  return white_space || splitter ||
         (normalised.size() == 1 && kAscii.find(normalised[0]) != std::string_view::npos &&
          c != 0xFF0C && c != 0xFE50);
}

// Returns the length of the UTF-8 sequence at `s` (with `n` >= 1 bytes available) and
// stores its code point in `cp`, or returns 0 if the sequence is invalid: truncated,
// overlong, a surrogate or above U+10FFFF.
inline size_t DecodeUtf8(const uint8_t* s, size_t n, char32_t& cp) {
  const uint32_t b0 = s[0];
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  // Continuation bytes XOR 0x80 are their six payload bits, so anything else is >= 0x40.
  if (b0 - 0xE0 < 0x10) {  // three bytes, the most common in CJK text
    if (n < 3) return 0;
    const uint32_t b1 = s[1] ^ 0x80u, b2 = s[2] ^ 0x80u;
    cp = ((b0 & 0x0F) << 12) | (b1 << 6) | b2;
    return ((b1 | b2) < 0x40 && cp >= 0x800 && !IsSurrogate(cp)) ? 3 : 0;
  }
  if (b0 - 0xC2 < 0x1E) {  // two bytes; C0 and C1 would be overlong
    if (n < 2) return 0;
    const uint32_t b1 = s[1] ^ 0x80u;
    cp = ((b0 & 0x1F) << 6) | b1;
    return b1 < 0x40 ? 2 : 0;
  }
  if (b0 - 0xF0 >= 5 || n < 4) return 0;  // F5 and above would be beyond U+10FFFF
  const uint32_t b1 = s[1] ^ 0x80u, b2 = s[2] ^ 0x80u, b3 = s[3] ^ 0x80u;
  cp = ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3;
  return ((b1 | b2 | b3) < 0x40 && cp >= 0x10000 && cp < kCodeSpace) ? 4 : 0;
}

constexpr uint64_t kHighBits = 0x8080808080808080ull;

uint64_t Load8(const uint8_t* s) {
  uint64_t x;
  std::memcpy(&x, s, sizeof x);
  return x;
}

// Lower-cases eight ASCII bytes at once (every byte < 0x80, so the additions below
// cannot carry into the neighbouring byte).
uint64_t LowerAscii8(uint64_t x) {
  const uint64_t at_least_a = x + 0x3F3F3F3F3F3F3F3Full;    // high bit set if >= 'A'
  const uint64_t above_z = x + 0x2525252525252525ull;       // high bit set if > 'Z'
  return x | (((at_least_a & ~above_z) & kHighBits) >> 2);  // add 0x20 to A..Z
}

char LowerAscii(uint8_t b) { return static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b); }

std::string EncodeUtf8(const utf8proc_int32_t* cps, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    utf8proc_uint8_t bytes[4];
    s.append(reinterpret_cast<char*>(bytes), utf8proc_encode_char(cps[i], bytes));
  }
  return s;
}

// Inside segments, utf8proc sees every Default_Ignorable code point as U+200B, which it
// drops; that also drops the unassigned ones it does not know to be ignorable.
utf8proc_int32_t IgnorableToZwsp(utf8proc_int32_t cp, void* /*unused*/) {
  return IsDefaultIgnorable(static_cast<char32_t>(cp)) ? 0x200B : cp;
}

// Code points that can compose with the character before them: every part but the first
// of a canonical decomposition, e.g. U+0B3E in U+0B4B -> U+0B47 U+0B3E. Those of canonical
// combining class 0 have no boundary before them although they are starters. Found by
// decomposing everything (compositions live in planes 0 and 1) rather than from a
// hand-kept list; marking a few that never compose costs only speed.
std::vector<bool> FindComposingFollowers() {
  std::vector<bool> follower(kCodeSpace);
  for (char32_t cp = 0; cp < 0x20000; ++cp) {
    utf8proc_int32_t parts[8];
    int boundclass = 0;
    const utf8proc_ssize_t n =
        IsSurrogate(cp) ? 0
                        : utf8proc_decompose_char(cp, parts, 8, UTF8PROC_DECOMPOSE, &boundclass);
    for (utf8proc_ssize_t i = 1; i < std::min<utf8proc_ssize_t>(n, 8); ++i)
      follower[parts[i]] = true;
  }
  // Conjoining jamo compose algorithmically: mark every medial and final.
  for (char32_t cp = 0x1160; cp <= 0x11FF; ++cp) follower[cp] = true;
  for (char32_t cp = 0xD7B0; cp <= 0xD7FF; ++cp) follower[cp] = true;
  return follower;
}

// CJK Unified Ideographs, the bulk of Chinese text, skip the table; the builder checks
// that the table agrees.
constexpr char32_t kHanFirst = 0x4E00;
constexpr char32_t kHanCount = 0x5200;
constexpr uint32_t kHanEntry = kCopy | kCjkBit;

inline uint32_t LookupEntry(const uint16_t* block_of, const uint32_t* entries, char32_t cp) {
  if (cp - kHanFirst < kHanCount) return kHanEntry;
  return entries[(static_cast<uint32_t>(block_of[cp >> kBlockBits]) << kBlockBits) |
                 (cp & (kBlockSize - 1))];
}

struct CodePointTable {
  std::vector<uint16_t> block_of;  // indexed by code point >> kBlockBits
  std::vector<uint32_t> entries;   // kBlockSize entries per distinct block
  std::string replacements;        // UTF-8 strings that kReplace entries point into

  uint32_t Lookup(char32_t cp) const { return LookupEntry(block_of.data(), entries.data(), cp); }
};

class TableBuilder {
 public:
  CodePointTable Build() {
    CodePointTable table;
    follower_ = FindComposingFollowers();
    std::map<std::array<uint32_t, kBlockSize>, uint16_t> block_ids;
    for (char32_t first = 0; first < kCodeSpace; first += kBlockSize) {
      std::array<uint32_t, kBlockSize> block;
      for (char32_t i = 0; i < kBlockSize; ++i) block[i] = Classify(first + i);
      auto [it, inserted] =
          block_ids.emplace(block, static_cast<uint16_t>(table.entries.size() / kBlockSize));
      if (inserted) table.entries.insert(table.entries.end(), block.begin(), block.end());
      table.block_of.push_back(it->second);
    }
    if (pool_.size() > kMaxReplacementOffset) Die("replacement pool overflow");
    for (char32_t cp = kHanFirst; cp < kHanFirst + kHanCount; ++cp) {
      if (Classify(cp) != kHanEntry) Die("CJK Unified Ideographs are not all plain CJK");
    }
    table.replacements = std::move(pool_);
    table.replacements.append(kCopyChunk, '\0');
    return table;
  }

 private:
  // What `cp` becomes when it stands alone, as a table entry.
  uint32_t Classify(char32_t cp) {
    // Planes 4-13 are unassigned and 15-16 private use: no mappings, no properties.
    const char32_t plane = cp >> 16;
    if (IsSurrogate(cp) || (plane >= 4 && plane != 14)) return kCopy;
    if (IsDefaultIgnorable(cp)) return kDrop;
    utf8proc_int32_t cps[kMaxReplacementLength];
    int boundclass = 0;
    utf8proc_ssize_t n =
        utf8proc_decompose_char(cp, cps, kMaxReplacementLength, kNfkcCasefold, &boundclass);
    if (n < 0 || n > static_cast<utf8proc_ssize_t>(kMaxReplacementLength)) {
      Die("unexpected utf8proc decomposition");
    }
    if (n == 0) return kDrop;
    if (utf8proc_get_property(cps[0])->combining_class != 0 || follower_[cps[0]]) {
      return kSegment;
    }
    n = utf8proc_normalize_utf32(cps, n, kNfkcCasefold);
    const std::string normalised = EncodeUtf8(cps, n);
    uint32_t flags = 0;
    if (std::all_of(cps, cps + n, [](utf8proc_int32_t c) { return IsCjkCodePoint(c); })) {
      flags |= kCjkBit;
    }
    if (IsSeparator(cp, normalised)) flags |= kSeparatorBit;
    if (n == 1 && static_cast<char32_t>(cps[0]) == cp) return kCopy | flags;
    if (normalised.size() > kMaxReplacementLength) Die("replacement too long");
    const auto offset = static_cast<uint32_t>(pool_.size());
    pool_ += normalised;
    return kReplace | flags | (static_cast<uint32_t>(normalised.size()) << kLengthShift) |
           (offset << kOffsetShift);
  }

  std::vector<bool> follower_;
  std::string pool_;
};

// Lower-cases the ASCII prefix of s[0, n) into w, writing at most `room` bytes; returns
// how many bytes it took.
inline size_t CopyAscii(const uint8_t* s, size_t n, char* w, size_t room) {
  const size_t limit = std::min(n, room);
  size_t k = 0;
  for (; k + 8 <= limit; k += 8) {
    const uint64_t x = Load8(s + k);
    if (x & kHighBits) break;
    const uint64_t lower = LowerAscii8(x);
    std::memcpy(w + k, &lower, sizeof lower);
  }
  for (; k < limit && s[k] < 0x80; ++k) w[k] = LowerAscii(s[k]);
  return k;
}

// True when the low three bytes of `v` (little-endian) encode a CJK Unified Ideograph.
// REQUIRES: they have the shape of a 3-byte sequence, 1110xxxx 10xxxxxx 10xxxxxx.
inline bool IsHanSequence(uint64_t v) {
  const char32_t cp = ((v & 0x0F) << 12) | ((v >> 2) & 0xFC0) | ((v >> 16) & 0x3F);
  return cp - kHanFirst < kHanCount;
}

// Copies the run of CJK Unified Ideographs at the start of s[0, n), writing at most `room`
// bytes to w; returns its length in bytes. Chinese text is mostly such runs, and within one
// nothing can be composed, mapped or stripped, so validation is all the work there is. Two
// ideographs (six bytes) go per step, with eight-byte loads and stores; an odd one out is
// left to the caller.
inline size_t CopyHanRun(const uint8_t* s, size_t n, char* w, size_t room) {
  static_assert(std::endian::native == std::endian::little);
  // Two sequences of the shape 1110xxxx 10xxxxxx 10xxxxxx.
  constexpr uint64_t kShape = 0xC0C0F0C0C0F0, kLeads = 0x8080E08080E0;
  const size_t limit = std::min(n, room);
  size_t k = 0;
  for (; k + 8 <= limit; k += 6) {
    const uint64_t x = Load8(s + k);
    if ((x & kShape) != kLeads || !IsHanSequence(x) || !IsHanSequence(x >> 24)) break;
    std::memcpy(w + k, &x, sizeof x);
  }
  return k;
}

// Writes what a boundary character with table entry `entry` becomes; `s` is its `len`
// source bytes. REQUIRES: kMaxEmit bytes of room at w. Returns the bytes written.
inline size_t EmitEntry(uint32_t entry, const uint8_t* s, size_t len, const char* replacements,
                        char* w) {
  if ((entry & kKindMask) == kCopy) {
    w[0] = static_cast<char>(s[0]);
    if (len > 1) {
      w[1] = static_cast<char>(s[1]);
      if (len > 2) w[2] = static_cast<char>(s[2]);
      if (len > 3) w[3] = static_cast<char>(s[3]);
    }
    return len;
  }
  const size_t written = (entry >> kLengthShift) & kMaxReplacementLength;
  const char* r = replacements + (entry >> kOffsetShift);
  std::memcpy(w, r, kCopyChunk);
  if (written > kCopyChunk) std::memcpy(w + kCopyChunk, r + kCopyChunk, written - kCopyChunk);
  return written;
}

// Gives each of output bytes [0, n) the source range [begin, end).
inline void FillRange(uint32_t* source_begin, uint32_t* source_end, size_t n, size_t begin,
                      size_t end) {
  std::fill_n(source_begin, n, static_cast<uint32_t>(begin));
  std::fill_n(source_end, n, static_cast<uint32_t>(end));
}

// The same for n bytes copied unchanged from `begin` on, in characters of `width` bytes.
inline void FillCopied(uint32_t* source_begin, uint32_t* source_end, size_t n, size_t begin,
                       size_t width) {
  for (size_t j = 0; j < n; j += width) {
    FillRange(source_begin + j, source_end + j, width, begin + j, begin + j + width);
  }
}

// Scanning state, copied into locals by the fast loop.
struct Cursor {
  size_t i = 0;  // next input byte
  // The last character with a composition boundary before it: where it starts in the
  // input and where its output starts. A segment re-normalises from here.
  size_t starter_src = 0;
  size_t starter_out = 0;
  // Separator stripping: whether the last non-ignorable character was CJK, and whether all
  // since the last CJK character were separators, whose output starts at run_start.
  bool prev_cjk = false;
  bool in_run = false;
  size_t run_start = 0;
};

// Separator-run bookkeeping for a boundary character about to be written at `pos`.
// Returns where to write it: at run_start when it is CJK and ends a run that began
// after CJK, which drops the run.
inline size_t TrackSeparators(uint32_t entry, size_t pos, Cursor& c) {
  if (entry & kSeparatorBit) {
    if (c.prev_cjk) {
      c.in_run = true;
      c.run_start = pos;
    }
  } else if (c.in_run) {
    if (entry & kCjkBit) pos = c.run_start;
    c.in_run = false;
  }
  c.prev_cjk = (entry & kCjkBit) != 0;
  return pos;
}

// One normalisation of one input. Output goes through raw pointers into the caller's
// buffers, which are resized up front and grown geometrically, then trimmed to the output
// length at the end; trimming keeps capacity, so a caller that reuses its NormalisedText
// stops allocating once it has seen its largest field.
template <bool kOffsets>
class Pass {
 public:
  Pass(const CodePointTable& tables, bool strip, std::string_view input, NormalisedText& out)
      : tables_(tables),
        strip_(strip),
        in_(reinterpret_cast<const uint8_t*>(input.data())),
        n_(input.size()),
        out_(out) {
    if (out_.text.size() < n_ + kSlack) out_.text.resize(n_ + kSlack);
    if (!kOffsets) {
      out_.source_begin.clear();
      out_.source_end.clear();
    }
    Attach();
  }

  bool Run() {
    while (true) {
      FastLoop();
      if (c_.i >= n_) break;
      if (!SlowStep()) return false;
    }
    out_.text.resize(size_);
    if constexpr (kOffsets) {
      out_.source_begin.resize(size_);
      out_.source_end.resize(size_);
    }
    return true;
  }

 private:
  // Emits characters until the end of the input or until one that SlowStep must handle:
  // a kSegment character, invalid input, or too little room left. All state lives in
  // locals, because a store through char* may alias any member and force reloads.
  void FastLoop() {
    Cursor c = c_;
    const uint8_t* const in = in_;
    const size_t n = n_;
    const bool strip = strip_;
    const uint16_t* const block_of = tables_.block_of.data();
    const uint32_t* const entries = tables_.entries.data();
    const char* const replacements = tables_.replacements.data();
    char* const text = text_;
    uint32_t* const source_begin = begin_;
    uint32_t* const source_end = end_;
    const size_t capacity = capacity_;
    size_t pos = size_;
    while (c.i < n && capacity - pos >= kMaxEmit) {
      // No separator in an ASCII run that follows non-CJK text can be stripped.
      if (in[c.i] < 0x80 && !c.prev_cjk && !c.in_run) {
        const size_t k = CopyAscii(in + c.i, n - c.i, text + pos, capacity - pos);
        if constexpr (kOffsets) FillCopied(source_begin + pos, source_end + pos, k, c.i, 1);
        c.i += k;
        pos += k;
        c.starter_src = c.i - 1;
        c.starter_out = pos - 1;
        continue;
      }
      char32_t cp;
      const size_t len = DecodeUtf8(in + c.i, n - c.i, cp);
      if (len == 0) break;
      const uint32_t entry = LookupEntry(block_of, entries, cp);
      if ((entry & kKindMask) >= kDrop) {
        if ((entry & kKindMask) == kSegment) break;
        c.i += len;
        continue;
      }
      if (strip) pos = TrackSeparators(entry, pos, c);
      c.starter_src = c.i;
      c.starter_out = pos;
      const size_t written = EmitEntry(entry, in + c.i, len, replacements, text + pos);
      if constexpr (kOffsets)
        FillRange(source_begin + pos, source_end + pos, written, c.i, c.i + len);
      pos += written;
      c.i += len;
      if (entry == kHanEntry) {
        const size_t k = CopyHanRun(in + c.i, n - c.i, text + pos, capacity - pos);
        if (k == 0) continue;
        if constexpr (kOffsets) FillCopied(source_begin + pos, source_end + pos, k, c.i, 3);
        c.i += k;
        pos += k;
        c.starter_src = c.i - 3;
        c.starter_out = pos - 3;
      }
    }
    c_ = c;
    size_ = pos;
  }

  // Handles the character at c_.i that stopped FastLoop. False if the input is invalid.
  bool SlowStep() {
    Reserve(kMaxEmit);  // if room was all that was missing, FastLoop resumes
    char32_t cp;
    const size_t len = DecodeUtf8(in_ + c_.i, n_ - c_.i, cp);
    if (len == 0) return false;
    if ((tables_.Lookup(cp) & kKindMask) != kSegment) return true;
    const size_t end = SegmentEnd(c_.i + len);
    if (end == 0) return false;
    // Roll back the segment's boundary character and normalise the segment as a whole.
    size_ = c_.starter_out;
    const char32_t last = EmitSegment(c_.starter_src, end);
    c_.i = end;
    c_.starter_src = end;
    c_.starter_out = size_;
    c_.in_run = false;
    c_.prev_cjk = strip_ && IsCjkCodePoint(last);
    return true;
  }

  // Where the segment continuing at `i` ends, or 0 if the input is invalid there.
  size_t SegmentEnd(size_t i) const {
    for (size_t count = 1; i < n_ && in_[i] >= 0x80 && count < kMaxSegmentCodePoints; ++count) {
      char32_t cp;
      const size_t len = DecodeUtf8(in_ + i, n_ - i, cp);
      if (len == 0) return 0;
      const uint32_t kind = tables_.Lookup(cp) & kKindMask;
      if (kind != kSegment && kind != kDrop) break;
      i += len;
    }
    return i;
  }

  // Writes the normalised form of input [begin, end); returns its last code point.
  char32_t EmitSegment(size_t begin, size_t end) {
    const auto decompose = [&](utf8proc_int32_t* buffer, utf8proc_ssize_t size) {
      return utf8proc_decompose_custom(in_ + begin, static_cast<utf8proc_ssize_t>(end - begin),
                                       buffer, size, kNfkcCasefold, IgnorableToZwsp, nullptr);
    };
    utf8proc_int32_t stack_buffer[kSegmentBuffer];
    std::vector<utf8proc_int32_t> heap_buffer;
    utf8proc_int32_t* buffer = stack_buffer;
    utf8proc_ssize_t n = decompose(buffer, kSegmentBuffer);
    if (n > static_cast<utf8proc_ssize_t>(kSegmentBuffer)) {  // never for real text
      heap_buffer.resize(static_cast<size_t>(n));
      buffer = heap_buffer.data();
      n = decompose(buffer, n);
    }
    if (n < 0) Die(utf8proc_errmsg(n));  // the input was validated, so this is a bug
    n = utf8proc_normalize_utf32(buffer, n, kNfkcCasefold);
    Reserve(4 * static_cast<size_t>(n) + kSlack);
    size_t written = 0;
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      written += static_cast<size_t>(utf8proc_encode_char(
          buffer[k], reinterpret_cast<utf8proc_uint8_t*>(text_ + size_ + written)));
    }
    if constexpr (kOffsets) FillRange(begin_ + size_, end_ + size_, written, begin, end);
    size_ += written;
    return n > 0 ? static_cast<char32_t>(buffer[n - 1]) : 0;
  }

  void Reserve(size_t n) {
    if (capacity_ - size_ < n) Grow(n);
  }

  [[gnu::noinline]] void Grow(size_t n) {
    out_.text.resize(std::max(2 * capacity_, size_ + n + kSlack));
    Attach();
  }

  void Attach() {
    capacity_ = out_.text.size();
    text_ = out_.text.data();
    if constexpr (kOffsets) {
      out_.source_begin.resize(capacity_);
      out_.source_end.resize(capacity_);
      begin_ = out_.source_begin.data();
      end_ = out_.source_end.data();
    }
  }

  const CodePointTable& tables_;
  const bool strip_;
  const uint8_t* const in_;
  const size_t n_;
  NormalisedText& out_;
  char* text_ = nullptr;  // out_.text, written up to size_
  uint32_t* begin_ = nullptr;
  uint32_t* end_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  Cursor c_;
};

}  // namespace

// The table does not depend on the options, so all Normalisers share one, built on first
// use (about 40 ms) and kept for the life of the process.
struct Normaliser::Tables {
  const CodePointTable& table;
};

Normaliser::Normaliser(NormaliserOptions options) : options_(options) {
  static const CodePointTable table = TableBuilder().Build();
  tables_ = std::make_unique<const Tables>(Tables{table});
}

Normaliser::~Normaliser() = default;

bool Normaliser::Normalise(std::string_view input, NormalisedText& out, bool with_offsets) const {
  const bool strip = options_.strip_cjk_separators;
  // Offsets are 32-bit; a field of 4 GiB or more cannot be described by them.
  const bool ok = with_offsets ? input.size() < std::numeric_limits<uint32_t>::max() &&
                                     Pass<true>(tables_->table, strip, input, out).Run()
                               : Pass<false>(tables_->table, strip, input, out).Run();
  if (!ok) {
    out.text.clear();
    out.source_begin.clear();
    out.source_end.clear();
  }
  return ok;
}

std::string Normaliser::Normalise(std::string_view input) const {
  NormalisedText out;
  Normalise(input, out);
  return std::move(out.text);
}

bool IsValidUtf8(std::string_view input) {
  const auto* s = reinterpret_cast<const uint8_t*>(input.data());
  const size_t n = input.size();
  for (size_t i = 0, len; i < n; i += len) {
    char32_t cp;
    len = (n - i >= 8 && (Load8(s + i) & kHighBits) == 0) ? 8 : DecodeUtf8(s + i, n - i, cp);
    if (len == 0) return false;
  }
  return true;
}

}  // namespace vigil::rules
