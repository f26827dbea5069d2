// The results database on SQLite: schema and migrations, ingest (idempotent, transactional), the
// round trip back into a Source, the page's history and regressions, and bad input (a corrupt or
// foreign database file, a schema from a newer zbl, a folder with broken JSON). The same code on
// PostgreSQL is tested by tests/postgres_test.sh against a real server.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>

#include "history.h"
#include "ingest.h"
#include "load.h"
#include "schema.h"
#include "sha256.h"
#include "test_util.h"

namespace zbl::report {
namespace {

namespace fs = std::filesystem;
using namespace test_util;

// Copies a testdata folder, leaving out the files named in `skip`.
fs::path CopyFolder(const std::string& rel, const fs::path& to,
                    const std::vector<std::string>& skip = {}) {
  fs::create_directories(to);
  for (const auto& e : fs::recursive_directory_iterator(kTestdata / rel)) {
    fs::path dst = to / fs::relative(e.path(), kTestdata / rel);
    if (std::find(skip.begin(), skip.end(), e.path().filename()) != skip.end()) {
      continue;
    }
    if (e.is_directory()) {
      fs::create_directories(dst);
    } else {
      fs::copy_file(e.path(), dst);
    }
  }
  return to;
}

int64_t Count(Db& db, const std::string& table) {
  return CellInt(db.Query("SELECT count(*) FROM " + table, {}).at(0).at(0)).value();
}

std::vector<IngestedRun> Ingest(Db& db, const std::vector<std::string>& dirs) {
  return StoreRuns(db, PrepareRuns(dirs), "test");
}

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = tmp_.path() / "zbl.sqlite";
    db_ = OpenDb(db_path_.string(), DbMode::kWrite);
    Migrate(*db_);
    // Two runs of one machine (ci-nullblk-1:nullblk): the baseline, then the fleet folder
    // without its deliberately broken file.
    old_ = (tmp_.path() / "old/nullblk").string();
    new_ = (tmp_.path() / "new/nullblk").string();
    CopyFolder("baseline/nullblk", old_);
    CopyFolder("fleet/nullblk", new_, {"broken.json"});
  }
  TempDir tmp_;
  fs::path db_path_;
  std::unique_ptr<Db> db_;
  std::string old_, new_;
};

TEST(Sha256, KnownDigests) {
  Sha256 empty;
  EXPECT_EQ(empty.HexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.Update("a");
  abc.Update("bc");
  EXPECT_EQ(abc.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 two_blocks;  // 56 bytes: the length needs a second block
  two_blocks.Update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(two_blocks.HexDigest(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(FigureUnit, FromTheName) {
  EXPECT_EQ(FigureUnit("bytes_per_second"), "B/s");
  EXPECT_EQ(FigureUnit("counter:zones_per_second"), "1/s");
  EXPECT_EQ(FigureUnit("real_time_ns"), "ns");
  EXPECT_EQ(FigureUnit("counter:p99.9_us"), "us");
  EXPECT_EQ(FigureUnit("cv_pct"), "%");
  EXPECT_EQ(FigureUnit("counter:resets"), "");
}

TEST_F(DbTest, MigratesAFreshDatabaseToTheLatestVersion) {
  EXPECT_EQ(SchemaVersion(*db_), LatestSchemaVersion());
  EXPECT_EQ(Count(*db_, "zbl_schema"), static_cast<int64_t>(Migrations().size()));
  EXPECT_EQ(Migrate(*db_), LatestSchemaVersion()) << "a second Migrate changes nothing";
}

TEST_F(DbTest, MigratesVersionOneKeepingItsRuns) {
  auto v1 = OpenDb((tmp_.path() / "v1.sqlite").string(), DbMode::kWrite);
  Migrate(*v1, 1);
  EXPECT_EQ(SchemaVersion(*v1), 1);
  EXPECT_THROW(RequireCurrentSchema(*v1), DbError);
  // A version 1 database has no identity columns: store a run the way version 1 did.
  v1->Query(
      "INSERT INTO runs (content_hash, machine, label, dir, run_date, ingested, ingested_by) "
      "VALUES ('h', 'm', 'l', 'd', '2026', '2026', 'old')",
      {});
  v1->Query("INSERT INTO devices (run_id, config, seq) VALUES (1, 'c', 0)", {});
  EXPECT_EQ(Migrate(*v1), 1);
  EXPECT_EQ(SchemaVersion(*v1), 2);
  auto rows = v1->Query("SELECT config, id_serial FROM devices", {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(CellStr(rows[0][0]), "c");
  EXPECT_FALSE(rows[0][1].has_value());
}

TEST_F(DbTest, RoundTripKeepsWhatTheFolderHolds) {
  auto done = Ingest(*db_, {new_});
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].added);
  EXPECT_EQ(done[0].machine, "ci-nullblk-1:nullblk");
  Diagnostics diag;
  Source folder = LoadSource(new_, diag);
  Source stored = LoadRun(*db_, done[0].run_id);
  EXPECT_EQ(stored.env.host, folder.env.host);
  EXPECT_EQ(stored.env.kernel, folder.env.kernel);
  EXPECT_EQ(stored.env.commit, folder.env.commit);
  EXPECT_EQ(stored.env.bench_context, folder.env.bench_context);
  EXPECT_EQ(stored.env.vm_devices, folder.env.vm_devices);
  ASSERT_EQ(stored.tests.size(), folder.tests.size());
  for (size_t i = 0; i < folder.tests.size(); ++i) {
    const TestResult &a = folder.tests[i], &b = stored.tests[i];
    EXPECT_EQ(std::tie(a.suite, a.rule, a.config, a.message, a.variant, a.file, a.seen),
              std::tie(b.suite, b.rule, b.config, b.message, b.variant, b.file, b.seen));
    EXPECT_EQ(a.outcome, b.outcome) << a.rule;
    EXPECT_DOUBLE_EQ(a.seconds, b.seconds);
  }
  ASSERT_EQ(stored.benchmarks.size(), folder.benchmarks.size());
  for (size_t i = 0; i < folder.benchmarks.size(); ++i) {
    const BenchRun &a = folder.benchmarks[i], &b = stored.benchmarks[i];
    EXPECT_EQ(std::tie(a.name, a.key, a.family, a.config, a.params, a.stat, a.error),
              std::tie(b.name, b.key, b.family, b.config, b.params, b.stat, b.error));
    EXPECT_EQ(a.bytes_per_second, b.bytes_per_second) << a.name;
    EXPECT_EQ(a.items_per_second, b.items_per_second) << a.name;
    EXPECT_EQ(a.real_time_ns, b.real_time_ns) << a.name;
    EXPECT_EQ(a.counters, b.counters) << a.name;
  }
  ASSERT_EQ(stored.configs.size(), folder.configs.size());
  for (size_t i = 0; i < folder.configs.size(); ++i) {
    EXPECT_EQ(stored.configs[i].name, folder.configs[i].name);
    EXPECT_EQ(stored.configs[i].fingerprint, folder.configs[i].fingerprint);
    EXPECT_EQ(stored.configs[i].limits, folder.configs[i].limits);
    EXPECT_EQ(stored.configs[i].option_string, folder.configs[i].option_string);
  }
  ASSERT_EQ(stored.comparisons.size(), folder.comparisons.size());
  ASSERT_FALSE(folder.comparisons.empty());
  EXPECT_EQ(stored.comparisons[0].ratios, folder.comparisons[0].ratios);
  EXPECT_EQ(stored.comparisons[0].results.size(), folder.comparisons[0].results.size());
  EXPECT_EQ(stored.comparisons[0].workload, folder.comparisons[0].workload);
  EXPECT_EQ(stored.files.size(), folder.files.size());
}

TEST_F(DbTest, TheSameFolderTwiceCountsOnce) {
  auto first = Ingest(*db_, {old_});
  int64_t results = Count(*db_, "results"), values = Count(*db_, "bench_values");
  ASSERT_GT(results, 0);
  auto again = Ingest(*db_, {old_, old_});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_FALSE(again[0].added);
  EXPECT_FALSE(again[1].added);
  EXPECT_EQ(again[0].run_id, first[0].run_id);
  EXPECT_EQ(Count(*db_, "runs"), 1);
  EXPECT_EQ(Count(*db_, "results"), results);
  EXPECT_EQ(Count(*db_, "bench_values"), values);
  // A copy elsewhere is the same run (the hash covers relative paths and contents only).
  fs::path copy = tmp_.path() / "copy/of/nullblk";
  CopyFolder("baseline/nullblk", copy);
  EXPECT_FALSE(Ingest(*db_, {copy.string()})[0].added);
  // A changed byte is a new run.
  std::string devices = ReadAll(copy / "devices.json");
  WriteAll(copy / "devices.json", devices + "\n");
  EXPECT_TRUE(Ingest(*db_, {copy.string()})[0].added);
  EXPECT_EQ(Count(*db_, "runs"), 2);
}

TEST_F(DbTest, AFailureHalfWayWritesNothing) {
  // Make the last table written refuse rows: the runs, results and benchmarks already
  // inserted in the same transaction must go too.
  db_->ExecScript(
      "CREATE TRIGGER refuse BEFORE INSERT ON compare_ratios "
      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  try {
    Ingest(*db_, {old_, new_});
    FAIL() << "the injected failure did not surface";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("injected failure"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(db_path_.string()), std::string::npos) << e.what();
  }
  for (const char* table : {"runs", "files", "results", "benchmarks", "bench_values", "devices",
                            "fingerprints", "comparisons", "compare_results"}) {
    EXPECT_EQ(Count(*db_, table), 0) << table;
  }
}

TEST_F(DbTest, BrokenJsonStopsTheIngestNamingTheFile) {
  fs::path broken = CopyFolder("fleet/nullblk", tmp_.path() / "broken/nullblk");
  try {
    PrepareRuns({old_, broken.string()});
    FAIL() << "a folder with broken JSON was accepted";
  } catch (const IngestError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find((broken / "broken.json").string()), std::string::npos) << what;
    EXPECT_NE(what.find("not valid JSON"), std::string::npos) << what;
  }
}

TEST_F(DbTest, CorruptFileIsNamedAndLeftAlone) {
  fs::path bad = tmp_.path() / "corrupt.sqlite";
  std::string junk(8192, 'x');
  junk.replace(0, 16, "not a database!!");
  WriteAll(bad, junk);
  for (DbMode mode : {DbMode::kRead, DbMode::kWrite}) {
    try {
      auto db = OpenDb(bad.string(), mode);
      Migrate(*db);
      FAIL() << "a corrupt file opened";
    } catch (const DbError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(bad.string()), std::string::npos) << what;
      EXPECT_NE(what.find("not an SQLite database"), std::string::npos) << what;
    }
  }
  EXPECT_EQ(ReadAll(bad), junk);
}

TEST_F(DbTest, ForeignDatabaseIsRefusedUnchanged) {
  fs::path other = tmp_.path() / "other.sqlite";
  {
    auto db = OpenDb(other.string(), DbMode::kWrite);
    db->ExecScript("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('ada')");
  }
  auto db = OpenDb(other.string(), DbMode::kWrite);
  try {
    Migrate(*db);
    FAIL() << "a foreign database was migrated";
  } catch (const DbError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(other.string()), std::string::npos) << what;
    EXPECT_NE(what.find("not a zbl results database"), std::string::npos) << what;
  }
  EXPECT_EQ(db->TableCount(), 1);
  EXPECT_FALSE(db->HasTable("zbl_schema"));
}

TEST_F(DbTest, NewerSchemaIsRefused) {
  db_->Query("INSERT INTO zbl_schema (version, what, applied) VALUES (99, 'future', 'later')", {});
  EXPECT_THROW(Migrate(*db_), DbError);
  try {
    RequireCurrentSchema(*db_);
    FAIL();
  } catch (const DbError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("schema version 99 is newer"), std::string::npos) << what;
  }
}

TEST_F(DbTest, PageComparesWithThePreviousRunOfTheMachine) {
  Ingest(*db_, {old_});
  Ingest(*db_, {new_});
  DbPage page = LoadPage(*db_, 10);
  ASSERT_EQ(page.latest.size(), 1u);
  EXPECT_EQ(page.latest[0].label, "ci-nullblk-1:nullblk");
  EXPECT_EQ(page.machines_compared, 1u);
  // The same changes as `--baseline baseline/nullblk fleet/nullblk` (baseline_test.cc).
  const Regressions& r = page.regressions;
  ASSERT_EQ(r.newly_failing.size(), 1u);
  EXPECT_EQ(r.newly_failing[0].rule, "WriteNotAtWritePointerFails");
  EXPECT_EQ(r.newly_failing[0].machine, "ci-nullblk-1:nullblk");
  EXPECT_EQ(r.newly_skipped.size(), 1u);
  EXPECT_EQ(r.vanished.size(), 1u);
  EXPECT_EQ(r.fixed.size(), 1u);
  EXPECT_EQ(r.slower.size(), 3u);
  EXPECT_EQ(r.compared_tests, 30u);
  // History: both runs, a trend with two points, failing rules with first and last sighting.
  const auto& h = page.history;
  EXPECT_EQ(h["runs"].size(), 2u);
  size_t two_point_trends = 0;
  for (const auto& t : h["trends"]) {
    two_point_trends += t["points"].size() == 2 ? 1 : 0;
  }
  EXPECT_GT(two_point_trends, 0u);
  bool found = false;
  for (const auto& f : h["failing"]) {
    if (f["rule"] == "WriteNotAtWritePointerFails") {
      found = true;
      EXPECT_EQ(f["first_seen"]["run"], 2);
      EXPECT_EQ(f["last_seen"]["run"], 2);
      EXPECT_EQ(f["failed_runs"], 1);
      EXPECT_EQ(f["machine_runs"], 2);
      EXPECT_EQ(f["now"], "fail");
    }
  }
  EXPECT_TRUE(found) << h["failing"].dump(1);
  EXPECT_FALSE(h["devices"].empty());
}

TEST_F(DbTest, OneRunHasNothingToCompare) {
  Ingest(*db_, {old_});
  DbPage page = LoadPage(*db_, 10);
  EXPECT_EQ(page.machines_compared, 0u);
  EXPECT_EQ(page.regressions.Count(), 0u);
}

// The command line: ingest, then the page, on SQLite.
TEST_F(DbTest, CliIngestThenPage) {
  std::string bin = Quote(kReportBin);
  std::string url = Quote((tmp_.path() / "cli/zbl.sqlite").string());
  CommandResult r = RunCommand(bin + " ingest --db " + url + " " + Quote(old_) + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("stored as run 1 of ci-nullblk-1:nullblk"), std::string::npos) << r.out;
  r = RunCommand(bin + " ingest --db " + url + " " + Quote(old_) + " 2>&1");
  EXPECT_NE(r.out.find("0 run(s) added, 1 already there"), std::string::npos) << r.out;
  fs::path page = tmp_.path() / "page.html";
  r = RunCommand(bin + " -q --db " + url + " --out " + Quote(page.string()));
  EXPECT_EQ(r.status, 0) << "one run: nothing to regress against";
  r = RunCommand(bin + " ingest -q --db " + url + " " + Quote(new_));
  EXPECT_EQ(r.status, 0);
  r = RunCommand(bin + " -q --db " + url + " --out " + Quote(page.string()) + " 2>/dev/null");
  EXPECT_EQ(r.status, 3) << "the --baseline rule: regressions make the exit status 3";
  std::string html = ReadAll(page);
  EXPECT_NE(html.find("\"history\":{"), std::string::npos);
  EXPECT_NE(html.find("the previous run of each machine"), std::string::npos);
  // Folders and --db together are a usage error; so is a missing database.
  r = RunCommand(bin + " --db " + url + " " + Quote(old_) + " 2>/dev/null");
  EXPECT_EQ(r.status, 2);
  r = RunCommand(bin + " --db " + Quote((tmp_.path() / "none.sqlite").string()) + " 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("none.sqlite: no such database file"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp_.path() / "none.sqlite"));
}

// Two processes ingesting into one SQLite file at once queue on its write lock; both runs land.
TEST_F(DbTest, CliConcurrentIngestsIntoOneFile) {
  fs::path file = tmp_.path() / "shared.sqlite";
  std::string ingest = Quote(kReportBin) + " ingest -q --db " + Quote(file.string()) + " ";
  CommandResult r = RunCommand("(" + ingest + Quote(old_) + " & " + ingest + Quote(new_) +
                               " & wait %1 && wait %2) 2>&1; echo status=$?");
  EXPECT_NE(r.out.find("status=0"), std::string::npos) << r.out;
  auto db = OpenDb(file.string(), DbMode::kRead);
  EXPECT_EQ(Count(*db, "runs"), 2);
  Diagnostics diag;
  size_t tests = LoadSource(old_, diag).tests.size() + LoadSource(new_, diag).tests.size();
  EXPECT_EQ(Count(*db, "results"), static_cast<int64_t>(tests));
}

TEST_F(DbTest, CliBrokenFolderWritesNothing) {
  fs::path fresh = tmp_.path() / "fresh.sqlite";
  fs::path broken = CopyFolder("fleet/nullblk", tmp_.path() / "broken/nullblk");
  CommandResult r = RunCommand(Quote(kReportBin) + " ingest --db " + Quote(fresh.string()) + " " +
                               Quote(old_) + " " + Quote(broken.string()) + " 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("broken.json: not valid JSON"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing was ingested"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one message: " << r.out;
  EXPECT_FALSE(fs::exists(fresh)) << "the database was created for a failed ingest";
  // Into an existing database: its runs stay as they were.
  r = RunCommand(Quote(kReportBin) + " ingest -q --db " + Quote(db_path_.string()) + " " +
                 Quote(new_));
  ASSERT_EQ(r.status, 0);
  r = RunCommand(Quote(kReportBin) + " ingest --db " + Quote(db_path_.string()) + " " +
                 Quote(old_) + " " + Quote(broken.string()) + " 2>/dev/null");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(Count(*db_, "runs"), 1);
}

TEST_F(DbTest, CliCorruptAndNewerDatabases) {
  fs::path bad = tmp_.path() / "corrupt.sqlite";
  WriteAll(bad, std::string(4096, 'z'));
  CommandResult r = RunCommand(Quote(kReportBin) + " ingest --db " + Quote(bad.string()) + " " +
                               Quote(old_) + " 2>&1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find(bad.string() + ": not an SQLite database"), std::string::npos) << r.out;
  EXPECT_EQ(ReadAll(bad), std::string(4096, 'z'));
  db_->Query("INSERT INTO zbl_schema (version, what, applied) VALUES (7, 'future', 'later')", {});
  for (std::string cmd : {" ingest --db ", " --db "}) {
    r = RunCommand(Quote(kReportBin) + cmd + Quote(db_path_.string()) +
                   (cmd == " --db " ? " --out " + Quote((tmp_.path() / "p.html").string())
                                    : " " + Quote(old_)) +
                   " 2>&1");
    EXPECT_EQ(r.status, 1) << cmd;
    EXPECT_NE(r.out.find("schema version 7 is newer than this zbl-report knows"), std::string::npos)
        << r.out;
  }
  EXPECT_EQ(Count(*db_, "runs"), 0);
  EXPECT_FALSE(fs::exists(tmp_.path() / "p.html"));
}

}  // namespace
}  // namespace zbl::report
