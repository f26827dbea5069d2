// The SQLite implementation of Db (Debian's libsqlite3). One connection; prepared statements are
// cached by their text. A busy timeout lets concurrent writers on one file queue up.
#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>

#include "db.h"

namespace zbl::report {

namespace {

constexpr int kBusyTimeoutMs = 60000;

class SqliteDb final : public Db {
 public:
  SqliteDb(const std::string& path, DbMode mode) : name_(path) {
    std::error_code ec;
    if (mode == DbMode::kRead && !std::filesystem::exists(path, ec)) {
      throw DbError(fmt::format("{}: no such database file", path));
    }
    int flags = SQLITE_OPEN_READWRITE | (mode == DbMode::kWrite ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw DbError(fmt::format("{}: cannot open the database: {}", path, why));
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // SQLite reads the header lazily: touch the schema now, so a file that is not a database
    // is reported here and not half-way through an ingest.
    Query("SELECT count(*) FROM sqlite_master", {});
    ExecScript("PRAGMA foreign_keys = ON");
  }
  ~SqliteDb() override {
    for (auto& [sql, stmt] : cache_) {
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db_);
  }

  DbDialect dialect() const override { return DbDialect::kSqlite; }
  const std::string& name() const override { return name_; }

  void ExecScript(const std::string& sql) override {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string why = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      Fail(rc, why);
    }
  }

  std::vector<DbRow> Query(const std::string& sql, const std::vector<DbValue>& params) override {
    sqlite3_stmt* stmt = Prepare(sql);
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    for (size_t i = 0; i < params.size(); ++i) {
      std::string key = fmt::format("${}", i + 1);
      int idx = sqlite3_bind_parameter_index(stmt, key.c_str());
      if (idx == 0) {
        continue;  // the statement does not use this parameter
      }
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              return sqlite3_bind_null(stmt, idx);
            } else if constexpr (std::is_same_v<T, int64_t>) {
              return sqlite3_bind_int64(stmt, idx, v);
            } else if constexpr (std::is_same_v<T, double>) {
              return sqlite3_bind_double(stmt, idx, v);
            } else {
              return sqlite3_bind_text(stmt, idx, v.data(), static_cast<int>(v.size()),
                                       SQLITE_TRANSIENT);
            }
          },
          params[i]);
      if (rc != SQLITE_OK) {
        Fail(rc, sqlite3_errmsg(db_));
      }
    }
    std::vector<DbRow> rows;
    int cols = sqlite3_column_count(stmt);
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) {
        break;
      }
      if (rc != SQLITE_ROW) {
        Fail(rc, sqlite3_errmsg(db_));
      }
      DbRow row(cols);
      for (int c = 0; c < cols; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            break;
          case SQLITE_FLOAT:
            row[c] = fmt::format("{}", sqlite3_column_double(stmt, c));
            break;
          default: {
            const unsigned char* t = sqlite3_column_text(stmt, c);
            row[c] = std::string(reinterpret_cast<const char*>(t),
                                 static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
          }
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  void BeginWrite() override { ExecScript("BEGIN IMMEDIATE"); }
  void Commit() override { ExecScript("COMMIT"); }
  void Rollback() noexcept override {
    if (!sqlite3_get_autocommit(db_)) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  void LockSchema() override {}  // BEGIN IMMEDIATE holds the only write lock already

  bool HasTable(const std::string& table) override {
    return !Query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1", {table})
                .empty();
  }
  int64_t TableCount() override {
    auto rows = Query("SELECT count(*) FROM sqlite_master WHERE type = 'table'", {});
    return CellInt(rows.at(0).at(0)).value_or(0);
  }

 private:
  sqlite3_stmt* Prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) {
      Fail(rc, sqlite3_errmsg(db_));
    }
    cache_.emplace(sql, stmt);
    return stmt;
  }

  [[noreturn]] void Fail(int rc, const std::string& why) const {
    int primary = rc & 0xff;
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) {
      throw DbError(fmt::format("{}: not an SQLite database, or a damaged one ({})", name_, why));
    }
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      throw DbError(fmt::format("{}: database still locked by another writer after {} s ({})",
                                name_, kBusyTimeoutMs / 1000, why));
    }
    throw DbError(fmt::format("{}: {}", name_, why));
  }

  std::string name_;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

std::unique_ptr<Db> OpenSqlite(const std::string& path, DbMode mode) {
  return std::make_unique<SqliteDb>(path, mode);
}

}  // namespace zbl::report
