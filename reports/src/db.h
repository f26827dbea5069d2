// The results database: a small SQL interface with two implementations (SQLite, the default, in
// a file; PostgreSQL for a lab where many hosts ingest into one server).
//
// The interface is what ingest and the page need and no more: run statements with positional
// parameters written $1, $2, ... (both engines take that spelling), read rows as text, and one
// transaction at a time. Every failure throws DbError with a message that names the database
// (the file, or the PostgreSQL URL without its password); callers catch it at the command
// boundary and print it. A Db is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace zbl::report {

class DbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A parameter: NULL, an integer, a real or text.
using DbValue = std::variant<std::monostate, int64_t, double, std::string>;

// A cell as text (reals in their shortest exact form); nullopt for NULL.
using DbCell = std::optional<std::string>;
using DbRow = std::vector<DbCell>;

enum class DbDialect { kSqlite, kPostgres };

class Db {
 public:
  virtual ~Db() = default;

  virtual DbDialect dialect() const = 0;
  // The database for messages: the file name, or the URL without a password.
  virtual const std::string& name() const = 0;

  // Runs one or more statements without parameters (schema changes).
  virtual void ExecScript(const std::string& sql) = 0;
  // Runs one statement; returns its rows (none for INSERT without RETURNING).
  virtual std::vector<DbRow> Query(const std::string& sql,
                                   const std::vector<DbValue>& params = {}) = 0;

  // BEGIN for writing: SQLite takes its write lock now (BEGIN IMMEDIATE) so that two writers
  // queue instead of failing half-way; PostgreSQL starts a READ COMMITTED transaction.
  virtual void BeginWrite() = 0;
  virtual void Commit() = 0;
  virtual void Rollback() noexcept = 0;  // no-op without an open transaction
  // Serializes schema migration between concurrent processes inside the open transaction
  // (SQLite: the write lock already does; PostgreSQL: a transaction-scoped advisory lock).
  virtual void LockSchema() = 0;
  // True when the database has a table of that name.
  virtual bool HasTable(const std::string& table) = 0;
  // Number of tables in the database (to tell an empty database from a foreign one).
  virtual int64_t TableCount() = 0;
};

enum class DbMode { kRead, kWrite };  // kWrite creates a missing SQLite file

// Opens "postgresql://..." / "postgres://..." (libpq's URI syntax, also "host=... dbname=..."
// when it starts with "postgresql:"), "sqlite:PATH" or a plain PATH (SQLite).
std::unique_ptr<Db> OpenDb(const std::string& url, DbMode mode);

// The SQLite and PostgreSQL implementations (db_sqlite.cc, db_postgres.cc).
std::unique_ptr<Db> OpenSqlite(const std::string& path, DbMode mode);
std::unique_ptr<Db> OpenPostgres(const std::string& conninfo);

// Reads a cell as a number / integer; nullopt for NULL or text that is not one.
std::optional<double> CellNum(const DbCell& c);
std::optional<int64_t> CellInt(const DbCell& c);
std::string CellStr(const DbCell& c);  // "" for NULL

// A transaction that rolls back unless committed (exceptions leave nothing half-written).
class DbTransaction {
 public:
  explicit DbTransaction(Db& db) : db_(db) { db_.BeginWrite(); }
  ~DbTransaction() {
    if (!done_) {
      db_.Rollback();
    }
  }
  DbTransaction(const DbTransaction&) = delete;
  DbTransaction& operator=(const DbTransaction&) = delete;
  void Commit() {
    db_.Commit();
    done_ = true;
  }

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace zbl::report
