// Compiles pattern lists into Hyperscan block-mode databases, with an on-disk cache
// keyed by a hash of the patterns, their flags, the Hyperscan version and the CPU
// features. Private to rules/.
#pragma once

#include <string>
#include <vector>

#include <hs/hs.h>

#include "core/result.h"

namespace vigil::rules {

struct HsPatternList {
  bool literal = false;  // compile with hs_compile_lit_multi
  std::vector<std::string> expressions;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
};

struct HsDatabase {
  hs_database_t* db = nullptr;  // owned by the caller: hs_free_database
  bool from_cache = false;
  // Patterns Hyperscan could not compile as written: indices into the list.
  std::vector<uint32_t> prefiltered;  // compiled with HS_FLAG_PREFILTER instead
  std::vector<uint32_t> dropped;      // not compiled at all (with the reason)
  std::vector<std::string> dropped_reasons;
};

// Compiles `patterns` for the host CPU. A regex that Hyperscan rejects is retried as a
// prefilter, and dropped if it fails again; the caller decides what a drop means.
// `cache_dir` may be empty (no cache). A missing, corrupt or stale cache file is a
// cache miss; failing to write the cache is not an error.
Result<HsDatabase> BuildHsDatabase(const HsPatternList& patterns, const std::string& cache_dir);

}  // namespace vigil::rules
