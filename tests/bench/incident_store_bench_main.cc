// The escalation stage under load: hits through the IncidentEngine into the SQLite state
// store, committed the way the AlertSink does it (one transaction per N posts, carrying
// the consumed offsets), each commit timed. The same hits through the engine alone show
// how the time splits between deciding and making it durable.
//
// A plain program rather than a Google Benchmark: a run is one long simulation whose
// accumulated state (threshold windows, open incidents, the store's size) is the point,
// not a loop of identical iterations. It prints its figures and exits 0 whatever they
// are; 1 only when the benchmark itself cannot run (tests/bench/README.md).
#include <sqlite3.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "alerts/incident_engine.h"
#include "alerts/state_store.h"
#include "core/clock.h"
#include "tests/bench/incident_workload.h"

namespace vigil::bench {
namespace {

namespace fs = std::filesystem;
using Stopwatch = std::chrono::steady_clock;

struct Options {
  Workload load;
  std::string mix = "60,30,10";  // parsed into load.mix
  int batch = 1024;              // posts per transaction, as AlertSinkOptions::max_batch_posts
  bool sweep = false;
  std::string db;  // empty: a fresh temporary folder
  bool keep = false;
  int64_t tick_ms = 1000;  // simulated time between engine ticks
};

struct Rows {
  int64_t incidents = 0, evidence = 0, audit = 0, outbox = 0, pending_added = 0,
          pending_removed = 0;
};

struct RunResult {
  int batch = 0;
  bool store = false;
  int64_t hits = 0;
  int64_t transactions = 0;
  double engine_s = 0;  // OnHits and Tick, building the batches
  double tick_s = 0;    // of which Tick
  int64_t ticks = 0;
  double slowest_tick_ms = 0;
  size_t active_at_slowest_tick = 0;
  double commit_s = 0;        // StateStore::Apply, wall clock
  double commit_cpu_s = 0;    // ... and on this thread's CPU: the rest is waiting (fsync)
  double floor_ms = 0;        // median commit of a batch holding only the offsets
  int64_t bytes_written = 0;  // by this process during the run (/proc/self/io wchar)
  std::vector<double> commit_ms;
  Rows written;                    // rows in the batches (incident rows are upserts)
  int64_t incidents_distinct = 0;  // distinct incident ids per batch, summed
  int64_t opened = 0, resolved = 0, escalated = 0;
  size_t active_at_end = 0, keys_at_end = 0;
  // The store, after the run.
  Rows stored;  // rows in each table at the end (pending_added: rows in pending_hits)
  int64_t db_live = 0, wal_live = 0;    // at the end of the run, before closing
  int64_t db_bytes = 0, wal_bytes = 0;  // after a checkpoint (TRUNCATE)
  int64_t freelist_pages = 0, page_size = 0;
  std::vector<std::pair<std::string, int64_t>> table_bytes;  // dbstat, when SQLite has it

  double total_s() const { return engine_s + commit_s; }
  double hits_per_s() const { return double(hits) / total_s(); }
  // As if Tick cost nothing: what OnHits and the store sustain.
  double hits_per_s_without_tick() const { return double(hits) / (total_s() - tick_s); }
  double Percentile(double p) const {
    if (commit_ms.empty()) return 0;
    const size_t i = static_cast<size_t>(std::ceil(p * double(commit_ms.size())));
    return commit_ms[std::clamp<size_t>(i, 1, commit_ms.size()) - 1];
  }
  double CommitMean() const { return commit_ms.empty() ? 0 : commit_s * 1e3 / commit_ms.size(); }
};

double Seconds(Stopwatch::duration d) { return std::chrono::duration<double>(d).count(); }

// Bytes this process passed to write(2) and pwrite(2) so far: the WAL, checkpoints.
int64_t BytesWritten() {
  std::ifstream io("/proc/self/io");
  std::string field;
  int64_t value = 0;
  while (io >> field >> value) {
    if (field == "wchar:") return value;
  }
  return 0;
}

double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

int64_t QueryInt(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return value;
}

// Row counts, a checkpoint, and the file sizes after it, through a connection of our own
// (the store has no such call, and it is closed by now).
Status Inspect(const std::string& path, RunResult& r) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    Error error{path + ": " + (db ? sqlite3_errmsg(db) : "out of memory")};
    sqlite3_close(db);
    return error;
  }
  r.stored.incidents = QueryInt(db, "SELECT COUNT(*) FROM incidents");
  r.stored.evidence = QueryInt(db, "SELECT COUNT(*) FROM evidence");
  r.stored.audit = QueryInt(db, "SELECT COUNT(*) FROM audit");
  r.stored.outbox = QueryInt(db, "SELECT COUNT(*) FROM outbox");
  r.stored.pending_added = QueryInt(db, "SELECT COUNT(*) FROM pending_hits");
  if (sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Error error{path + ": checkpoint: " + sqlite3_errmsg(db)};
    sqlite3_close(db);
    return error;
  }
  r.db_bytes = FileSize(path);
  r.wal_bytes = FileSize(path + "-wal");
  r.freelist_pages = QueryInt(db, "PRAGMA freelist_count");
  r.page_size = QueryInt(db, "PRAGMA page_size");
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC",
                         -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      r.table_bytes.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                                 sqlite3_column_int64(stmt, 1));
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return Status::Ok();
}

void Count(const alerts::Batch& batch, RunResult& r) {
  r.written.incidents += static_cast<int64_t>(batch.incidents.size());
  r.written.evidence += static_cast<int64_t>(batch.evidence.size());
  r.written.audit += static_cast<int64_t>(batch.audit.size());
  r.written.outbox += static_cast<int64_t>(batch.outbox.size());
  r.written.pending_added += static_cast<int64_t>(batch.pending_added.size());
  r.written.pending_removed += static_cast<int64_t>(batch.pending_removed.size());
  std::unordered_set<int64_t> ids;
  for (const alerts::Incident& i : batch.incidents) ids.insert(i.id);
  r.incidents_distinct += static_cast<int64_t>(ids.size());
  for (const alerts::AuditEntry& a : batch.audit) {
    r.opened += a.action == "opened";
    r.resolved += a.action == "resolved";
    r.escalated += a.action == "escalated";
  }
}

// One run: `db_path` empty means the engine alone (each batch built, counted, dropped).
Result<RunResult> Run(const Options& o, const std::vector<KeyProfile>& keys,
                      const std::vector<std::string>& excerpts, int batch_posts,
                      const std::string& db_path) {
  RunResult r;
  r.batch = batch_posts;
  r.store = !db_path.empty();
  std::unique_ptr<alerts::StateStore> store;
  if (r.store) {
    auto opened = alerts::OpenSqliteStore(db_path);
    if (!opened.ok()) return opened.error();
    store = std::move(*opened);
  }
  PostSource source(o.load, keys, excerpts);
  FakeClock clock(source.start());
  alerts::IncidentEngine engine(clock);
  if (store) {
    if (Status restored = engine.Restore(*store); !restored.ok()) return restored.error();
  }
  const std::string topic = "vigil.posts";
  int64_t next_tick_ms = ToMillis(source.start()) + o.tick_ms;
  std::vector<Post> posts;
  posts.reserve(batch_posts);
  r.commit_ms.reserve(static_cast<size_t>(o.load.hits / batch_posts + 1));
  const int64_t written_before = BytesWritten();
  for (int64_t done = 0; done < o.load.hits;) {
    const int64_t n = std::min<int64_t>(batch_posts, o.load.hits - done);
    posts.clear();
    for (int64_t i = 0; i < n; ++i) posts.push_back(source.Next());  // not timed

    alerts::Batch batch;
    const auto start = Stopwatch::now();
    Stopwatch::duration tick{};
    for (const Post& post : posts) {
      // The committer ticks once a second (of real time); here every --tick-ms of
      // simulated time, in the batch being built (as AlertSink::Run does), before the
      // first hit after it.
      const int64_t at_ms = ToMillis(post.hit.at);
      while (at_ms >= next_tick_ms) {
        clock.Set(FromMillis(next_tick_ms));
        const auto tick_start = Stopwatch::now();
        engine.Tick(batch);
        const auto took = Stopwatch::now() - tick_start;
        tick += took;
        ++r.ticks;
        if (Seconds(took) * 1e3 > r.slowest_tick_ms) {
          r.slowest_tick_ms = Seconds(took) * 1e3;
          r.active_at_slowest_tick = engine.active_incidents();
        }
        next_tick_ms += o.tick_ms;
      }
      clock.Set(post.hit.at);
      engine.OnHits(std::span<const alerts::HitEvent>(&post.hit, 1), batch);
      batch.offsets[{topic, post.partition}] = post.offset + 1;
    }
    const auto built = Stopwatch::now();
    const double cpu_before = ThreadCpuSeconds();
    if (store) {
      if (Status applied = store->Apply(batch); !applied.ok()) return applied.error();
    }
    const auto committed = Stopwatch::now();
    r.commit_cpu_s += store ? ThreadCpuSeconds() - cpu_before : 0;

    r.engine_s += Seconds(built - start);
    r.tick_s += Seconds(tick);
    if (store) {
      r.commit_s += Seconds(committed - built);
      r.commit_ms.push_back(Seconds(committed - built) * 1e3);
    }
    ++r.transactions;
    Count(batch, r);
    done += n;
  }
  r.hits = o.load.hits;
  r.bytes_written = BytesWritten() - written_before;
  r.active_at_end = engine.active_incidents();
  r.keys_at_end = engine.tracked_keys();
  std::sort(r.commit_ms.begin(), r.commit_ms.end());
  if (store) {
    r.db_live = FileSize(db_path);
    r.wal_live = FileSize(db_path + "-wal");
    // The fixed cost of a durable transaction: new offsets, nothing else. (The same
    // values again would change no page, and SQLite would then write and sync nothing.)
    std::vector<double> floor;
    for (int i = 0; i < 21; ++i) {
      alerts::Batch batch;
      for (int32_t p = 0; p < o.load.partitions; ++p) {
        batch.offsets[{topic, p}] = o.load.hits / o.load.partitions + 1 + i;
      }
      const auto start = Stopwatch::now();
      if (Status applied = store->Apply(batch); !applied.ok()) return applied.error();
      floor.push_back(Seconds(Stopwatch::now() - start) * 1e3);
    }
    std::sort(floor.begin(), floor.end());
    r.floor_ms = floor[floor.size() / 2];
    store.reset();
    if (Status inspected = Inspect(db_path, r); !inspected.ok()) return inspected.error();
  }
  return r;
}

double MiB(int64_t bytes) { return double(bytes) / (1024.0 * 1024.0); }

void PrintThroughput(const std::vector<RunResult>& runs, const RunResult& engine_only) {
  fmt::print(
      "\nThroughput: engine + commit time (generating the hits is not timed); commit: "
      "StateStore::Apply in ms; floor: a commit of new offsets alone\n");
  fmt::print("{:>6} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8} {:>13}\n", "batch",
             "txns", "hits/s", "txn/s", "mean", "p50", "p99", "max", "floor", "store %",
             "w/o Tick h/s");
  for (const RunResult& r : runs) {
    fmt::print(
        "{:>6} {:>7} {:>9.0f} {:>8.1f} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f} {:>7.2f} {:>7.0f}% "
        "{:>13.0f}\n",
        r.batch, r.transactions, r.hits_per_s(), double(r.transactions) / r.total_s(),
        r.CommitMean(), r.Percentile(0.50), r.Percentile(0.99),
        r.commit_ms.empty() ? 0.0 : r.commit_ms.back(), r.floor_ms,
        100.0 * r.commit_s / r.total_s(), r.hits_per_s_without_tick());
  }
  fmt::print("engine alone (batch {}, no store): {:.0f} hits/s; {:.0f} hits/s without Tick\n",
             engine_only.batch, engine_only.hits_per_s(), engine_only.hits_per_s_without_tick());
}

void PrintState(const std::vector<RunResult>& runs) {
  fmt::print("\nState store after the run (sizes after PRAGMA wal_checkpoint(TRUNCATE))\n");
  fmt::print("{:>6} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10}\n", "batch",
             "opened", "resolved", "incidents", "evidence", "audit", "outbox", "pending", "db MiB",
             "wal MiB", "B/hit", "B/incident");
  for (const RunResult& r : runs) {
    const int64_t bytes = r.db_bytes + r.wal_bytes;
    fmt::print(
        "{:>6} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8.1f} {:>9.1f} {:>8.1f} {:>10.0f}\n",
        r.batch, r.opened, r.resolved, r.stored.incidents, r.stored.evidence, r.stored.audit,
        r.stored.outbox, r.stored.pending_added, MiB(r.db_bytes), MiB(r.wal_bytes),
        double(bytes) / double(r.hits),
        double(bytes) / double(std::max<int64_t>(1, r.stored.incidents)));
  }
}

void PrintDetail(const RunResult& r, const RunResult& engine_only) {
  const double hits = double(r.hits);
  fmt::print("\nWhere the time goes (batch {}):\n", r.batch);
  fmt::print(
      "  engine alone      {:8.2f} s  {:>9.0f} hits/s  (Tick {:.2f} s; without it {:.0f} hits/s)\n",
      engine_only.engine_s, engine_only.hits_per_s(), engine_only.tick_s,
      engine_only.hits_per_s_without_tick());
  fmt::print("  with the store    {:8.2f} s  = engine {:.2f} s (Tick {:.2f} s) + Apply {:.2f} s\n",
             r.total_s(), r.engine_s, r.tick_s, r.commit_s);
  fmt::print("  per hit           OnHits {:.2f} us, Tick {:.2f} us, Apply {:.2f} us\n",
             (r.engine_s - r.tick_s) * 1e6 / hits, r.tick_s * 1e6 / hits, r.commit_s * 1e6 / hits);
  fmt::print(
      "  Tick              {} calls, {:.2f} ms each on average, slowest {:.1f} ms with {} "
      "incidents active\n",
      r.ticks, r.ticks ? r.tick_s * 1e3 / double(r.ticks) : 0.0, r.slowest_tick_ms,
      r.active_at_slowest_tick);
  fmt::print(
      "  Apply on the CPU  {:.2f} s of {:.2f} s (the rest waits for the disk); a commit "
      "of new offsets alone takes {:.2f} ms (median)\n",
      r.commit_cpu_s, r.commit_s, r.floor_ms);
  fmt::print(
      "  written to files  {:.0f} MiB: {:.0f} KiB per transaction, {:.0f} B per hit (WAL "
      "frames and checkpoints)\n",
      MiB(r.bytes_written), double(r.bytes_written) / 1024.0 / double(r.transactions),
      double(r.bytes_written) / hits);
  fmt::print(
      "Rows written per hit (batch contents; incident rows are INSERT OR REPLACE upserts):\n");
  fmt::print(
      "  incidents {:.3f}  evidence {:.3f}  audit {:.4f}  outbox {:.4f}  pending +{:.3f} "
      "-{:.3f}\n",
      double(r.written.incidents) / hits, double(r.written.evidence) / hits,
      double(r.written.audit) / hits, double(r.written.outbox) / hits,
      double(r.written.pending_added) / hits, double(r.written.pending_removed) / hits);
  fmt::print(
      "  incident rows {} for {} distinct incidents per batch (summed): {:.1f} upserts each\n",
      r.written.incidents, r.incidents_distinct,
      double(r.written.incidents) / double(std::max<int64_t>(1, r.incidents_distinct)));
  fmt::print("  opened {}, resolved {}, escalated {}; active at the end {}, keys tracked {}\n",
             r.opened, r.resolved, r.escalated, r.active_at_end, r.keys_at_end);
  fmt::print(
      "Files: at the end of the run db {:.1f} MiB + wal {:.1f} MiB; after the checkpoint "
      "db {:.1f} MiB + wal {:.1f} MiB, {} free pages of {} B\n",
      MiB(r.db_live), MiB(r.wal_live), MiB(r.db_bytes), MiB(r.wal_bytes), r.freelist_pages,
      r.page_size);
  if (!r.table_bytes.empty()) {
    fmt::print("Space by table and index (dbstat):\n");
    for (const auto& [name, bytes] : r.table_bytes) {
      if (bytes >= 64 * 1024) fmt::print("  {:<32} {:8.1f} MiB\n", name, MiB(bytes));
    }
  }
}

// One line on stderr as each run ends, so a long run that is interrupted still tells.
void PrintProgress(const RunResult& r) {
  fmt::print(stderr,
             "  {:.0f} hits/s in {:.1f} s (Tick {:.1f} s, Apply {:.1f} s, commit p99 {:.2f} ms)\n",
             r.hits_per_s(), r.total_s(), r.tick_s, r.commit_s, r.Percentile(0.99));
}

std::optional<std::vector<int>> ParseMix(const std::string& text) {
  int a = 0, b = 0, c = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%d,%d,%d%c", &a, &b, &c, &tail) != 3) return std::nullopt;
  if (a < 0 || b < 0 || c < 0 || a + b + c != 100) return std::nullopt;
  return std::vector<int>{a, b, c};
}

// state.db -> state.b64.db: one file per batch size of a sweep.
std::string PathFor(const std::string& base, int batch, bool sweep) {
  if (!sweep) return base;
  fs::path path(base);
  return (path.parent_path() /
          fmt::format("{}.b{}{}", path.stem().string(), batch, path.extension().string()))
      .string();
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Escalation-stage benchmark: hits through the incident engine into the SQLite state "
      "store, one durable transaction per --batch posts"};
  app.add_option("--hits", o.load.hits, "hits (one per post)")->check(CLI::PositiveNumber);
  app.add_option("--keys", o.load.keys, "incident keys")->check(CLI::PositiveNumber);
  app.add_option("--batch", o.batch, "posts per transaction")->check(CLI::PositiveNumber);
  app.add_flag("--sweep", o.sweep, "also run batches of 64, 256, 1024 and 4096 posts");
  app.add_option("--db", o.db,
                 "state store file (must not exist; a sweep adds .b<N> before the extension); "
                 "default: in a fresh temporary folder");
  app.add_flag("--keep", o.keep, "keep the temporary folder and its databases");
  app.add_option("--mix", o.mix, "% of keys: immediate,count-20-within-10m,spike (sum 100)");
  app.add_option("--zipf", o.load.zipf, "key popularity exponent (0: uniform)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ms-per-hit", o.load.ms_per_hit, "simulated time between hits")
      ->check(CLI::PositiveNumber);
  app.add_option("--tick-ms", o.tick_ms, "simulated time between engine ticks")
      ->check(CLI::PositiveNumber);
  app.add_option("--resolve-after", o.load.resolve_after_s,
                 "auto-resolve after this many quiet seconds")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--partitions", o.load.partitions, "source partitions (offsets per batch)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", o.load.seed, "the same seed gives the same hits");
  CLI11_PARSE(app, argc, argv);

  const auto mix = ParseMix(o.mix);
  if (!mix) {
    fmt::print(stderr, "--mix {}: three percentages that sum to 100, e.g. 60,30,10\n", o.mix);
    return 1;
  }
  o.load.mix = *mix;
  std::vector<int> batches = {o.batch};
  if (o.sweep) {
    batches = {64, 256, 1024, 4096};
    if (std::find(batches.begin(), batches.end(), o.batch) == batches.end()) {
      batches.push_back(o.batch);
      std::sort(batches.begin(), batches.end());
    }
  }

  std::string folder;
  std::string base = o.db;
  if (base.empty()) {
    std::string pattern = (fs::temp_directory_path() / "vigil-incident-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      fmt::print(stderr, "{}: cannot create a temporary folder\n", pattern);
      return 1;
    }
    folder = pattern;
    base = (fs::path(folder) / "state.db").string();
  }
  for (int batch : batches) {
    if (fs::exists(PathFor(base, batch, o.sweep))) {
      fmt::print(stderr, "{}: exists; remove it or choose another --db\n",
                 PathFor(base, batch, o.sweep));
      return 1;
    }
  }
  struct statfs fs_info {};
  const std::string dir = fs::absolute(base).parent_path().string();
  const bool tmpfs = ::statfs(dir.c_str(), &fs_info) == 0 && fs_info.f_type == 0x01021994;

  const std::vector<KeyProfile> keys = MakeKeys(o.load);
  const std::vector<std::string> excerpts = MakeExcerpts(o.load.seed);
  size_t excerpt_bytes = 0;
  for (const std::string& e : excerpts) excerpt_bytes += e.size();
  fmt::print(
      "incident_store_bench: {} hits over {} keys (mix {}% immediate, {}% count 20 within 10m, "
      "{}% spike; zipf {}), {} ms simulated per hit, Tick every {} ms simulated, "
      "resolve_after {} s, excerpts {} B on average\nstate store: {} (SQLite {}, WAL, "
      "synchronous=FULL){}\n",
      o.load.hits, o.load.keys, (*mix)[0], (*mix)[1], (*mix)[2], o.load.zipf, o.load.ms_per_hit,
      o.tick_ms, o.load.resolve_after_s, excerpt_bytes / excerpts.size(), dir, sqlite3_libversion(),
      tmpfs ? "\nWARNING: tmpfs: fsync costs nothing here, the commit figures mean little" : "");

  // The engine alone once, at --batch: its work does not depend on the batch size.
  const auto wall_start = Stopwatch::now();
  std::fflush(stdout);
  fmt::print(stderr, "engine alone, batch {} ...\n", o.batch);
  auto engine_only = Run(o, keys, excerpts, o.batch, "");
  if (!engine_only.ok()) {
    fmt::print(stderr, "incident_store_bench: {}\n", engine_only.error().ToString());
    return 1;
  }
  PrintProgress(*engine_only);
  std::vector<RunResult> runs;
  for (int batch : batches) {
    const std::string path = PathFor(base, batch, o.sweep);
    fmt::print(stderr, "engine + store, batch {} ({}) ...\n", batch, path);
    auto with_store = Run(o, keys, excerpts, batch, path);
    if (!with_store.ok()) {
      fmt::print(stderr, "incident_store_bench: {}\n", with_store.error().ToString());
      return 1;
    }
    PrintProgress(*with_store);
    runs.push_back(std::move(*with_store));
  }

  PrintThroughput(runs, *engine_only);
  PrintState(runs);
  const RunResult& main_run = *std::find_if(runs.begin(), runs.end(),
                                            [&](const RunResult& r) { return r.batch == o.batch; });
  PrintDetail(main_run, *engine_only);
  fmt::print(
      "\nTarget: at least 100000 hits/s with durable commits batched: {:.0f} hits/s at batch {} "
      "({:.0f} without Tick): {}\n",
      main_run.hits_per_s(), o.batch, main_run.hits_per_s_without_tick(),
      main_run.hits_per_s() >= 100'000 ? "met" : "MISSED");
  fmt::print("(the whole benchmark took {:.0f} s)\n", Seconds(Stopwatch::now() - wall_start));

  if (!folder.empty()) {
    if (o.keep) {
      fmt::print("kept {}\n", folder);
    } else {
      std::error_code ec;
      fs::remove_all(folder, ec);
    }
  }
  return 0;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) { return vigil::bench::Main(argc, argv); }
