#include "rules/hs_database.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "core/hash.h"

namespace vigil::rules {
namespace {

constexpr char kMagic[8] = {'V', 'I', 'G', 'I', 'L', 'H', 'S', '1'};


void AppendU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }

bool ReadU32(std::string_view& in, uint32_t& v) {
  if (in.size() < 4) return false;
  std::memcpy(&v, in.data(), 4);
  in.remove_prefix(4);
  return true;
}

// The cache key covers everything that changes the compiled bytes.
std::string CacheKey(const HsPatternList& patterns) {
  hs_platform_info_t platform{};
  hs_populate_platform(&platform);
  std::string key = fmt::format("vigil-hs-v1|{}|{}|{}|{}|{}\n", hs_version(), platform.tune,
                                platform.cpu_features, patterns.literal ? "lit" : "re",
                                patterns.expressions.size());
  for (size_t i = 0; i < patterns.expressions.size(); ++i) {
    key += fmt::format("{}|{}|{}|", patterns.ids[i], patterns.flags[i], patterns.expressions[i].size());
    key += patterns.expressions[i];
    key += '\n';
  }
  return Sha256Hex(key);
}

std::string SerializeEntry(const HsDatabase& db) {
  char* bytes = nullptr;
  size_t length = 0;
  if (hs_serialize_database(db.db, &bytes, &length) != HS_SUCCESS) return "";
  std::string out(kMagic, sizeof(kMagic));
  AppendU32(out, uint32_t(db.prefiltered.size()));
  for (uint32_t i : db.prefiltered) AppendU32(out, i);
  AppendU32(out, uint32_t(db.dropped.size()));
  for (size_t i = 0; i < db.dropped.size(); ++i) {
    AppendU32(out, db.dropped[i]);
    AppendU32(out, uint32_t(db.dropped_reasons[i].size()));
    out += db.dropped_reasons[i];
  }
  AppendU32(out, uint32_t(length));
  out.append(bytes, length);
  free(bytes);
  out += Sha256(out);
  return out;
}

// Returns false on any inconsistency: the caller then compiles afresh.
bool DeserializeEntry(std::string_view in, size_t pattern_count, HsDatabase& db) {
  constexpr size_t kDigest = 32;
  if (in.size() < sizeof(kMagic) + kDigest || std::memcmp(in.data(), kMagic, sizeof(kMagic)) != 0) return false;
  if (Sha256(in.substr(0, in.size() - kDigest)) != in.substr(in.size() - kDigest)) return false;
  in = in.substr(sizeof(kMagic), in.size() - sizeof(kMagic) - kDigest);
  uint32_t n = 0;
  if (!ReadU32(in, n) || n > pattern_count) return false;
  for (uint32_t k = 0; k < n; ++k) {
    uint32_t i = 0;
    if (!ReadU32(in, i) || i >= pattern_count) return false;
    db.prefiltered.push_back(i);
  }
  if (!ReadU32(in, n) || n > pattern_count) return false;
  for (uint32_t k = 0; k < n; ++k) {
    uint32_t i = 0, len = 0;
    if (!ReadU32(in, i) || i >= pattern_count || !ReadU32(in, len) || len > in.size()) return false;
    db.dropped.push_back(i);
    db.dropped_reasons.emplace_back(in.substr(0, len));
    in.remove_prefix(len);
  }
  uint32_t length = 0;
  if (!ReadU32(in, length) || length != in.size() || length == 0) return false;
  char* info = nullptr;
  if (hs_serialized_database_info(in.data(), in.size(), &info) != HS_SUCCESS) return false;
  free(info);
  return hs_deserialize_database(in.data(), in.size(), &db.db) == HS_SUCCESS;
}

bool ReadWholeFile(const std::filesystem::path& path, std::string& out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::ostringstream buffer;
  buffer << file.rdbuf();
  out = buffer.str();
  return true;
}

void WriteCacheFile(const std::filesystem::path& path, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const std::filesystem::path temp = path.string() + ".tmp." + std::to_string(getpid());
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    if (!file) return;
    file.write(bytes.data(), std::streamsize(bytes.size()));
    if (!file) return;
  }
  std::filesystem::rename(temp, path, ec);  // atomic: readers never see a half file
  if (ec) std::filesystem::remove(temp, ec);
}

Result<HsDatabase> Compile(const HsPatternList& patterns) {
  HsDatabase result;
  std::vector<unsigned> flags = patterns.flags;
  std::vector<bool> dropped(patterns.expressions.size(), false);
  while (true) {
    std::vector<const char*> expressions;
    std::vector<size_t> lengths;
    std::vector<unsigned> kept_flags, kept_ids;
    std::vector<uint32_t> index;  // position in the compile call -> position in `patterns`
    for (size_t i = 0; i < patterns.expressions.size(); ++i) {
      if (dropped[i]) continue;
      expressions.push_back(patterns.expressions[i].c_str());
      lengths.push_back(patterns.expressions[i].size());
      kept_flags.push_back(flags[i]);
      kept_ids.push_back(patterns.ids[i]);
      index.push_back(uint32_t(i));
    }
    if (expressions.empty()) return result;
    hs_compile_error_t* error = nullptr;
    hs_error_t rc =
        patterns.literal
            ? hs_compile_lit_multi(expressions.data(), kept_flags.data(), kept_ids.data(),
                                   lengths.data(), unsigned(expressions.size()), HS_MODE_BLOCK,
                                   nullptr, &result.db, &error)
            : hs_compile_multi(expressions.data(), kept_flags.data(), kept_ids.data(),
                               unsigned(expressions.size()), HS_MODE_BLOCK, nullptr, &result.db,
                               &error);
    if (rc == HS_SUCCESS) return result;
    const std::string message = error ? error->message : "unknown error";
    const int failed = error ? error->expression : -1;
    hs_free_compile_error(error);
    if (failed < 0 || size_t(failed) >= index.size()) {
      return Error{"Hyperscan could not compile the rule set: " + message, {}};
    }
    const uint32_t i = index[size_t(failed)];
    if (!patterns.literal && !(flags[i] & HS_FLAG_PREFILTER)) {
      flags[i] |= HS_FLAG_PREFILTER;
      result.prefiltered.push_back(i);
    } else {
      dropped[i] = true;
      result.dropped.push_back(i);
      result.dropped_reasons.push_back(message);
      std::erase(result.prefiltered, i);
    }
  }
}

}  // namespace

Result<HsDatabase> BuildHsDatabase(const HsPatternList& patterns, const std::string& cache_dir) {
  std::filesystem::path cache_file;
  if (!cache_dir.empty() && !patterns.expressions.empty()) {
    cache_file = std::filesystem::path(cache_dir) / (CacheKey(patterns) + ".hsdb");
    std::string bytes;
    HsDatabase cached;
    if (ReadWholeFile(cache_file, bytes) && DeserializeEntry(bytes, patterns.expressions.size(), cached)) {
      cached.from_cache = true;
      return cached;
    }
    if (cached.db) hs_free_database(cached.db);
  }
  Result<HsDatabase> compiled = Compile(patterns);
  if (compiled.ok() && compiled->db && !cache_file.empty()) {
    const std::string bytes = SerializeEntry(*compiled);
    if (!bytes.empty()) WriteCacheFile(cache_file, bytes);
  }
  return compiled;
}

}  // namespace vigil::rules
