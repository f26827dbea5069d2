// The PostgreSQL implementation of Db (Debian's libpq). Parameters travel as text and the server
// infers their types from the statement; results come back as text.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <regex>

#include "db.h"

namespace zbl::report {

namespace {

// Advisory lock key for schema migration: "zbl" in ASCII, any constant unique to zbl does.
constexpr int64_t kSchemaLockKey = 0x7a626c;

// The URL or conninfo without its password, for messages.
std::string Redact(const std::string& conninfo) {
  std::string out = std::regex_replace(conninfo, std::regex("(://[^:/@]*:)[^@]*@"), "$1***@");
  return std::regex_replace(out, std::regex("(password=)[^& ]*"), "$1***");
}

void IgnoreNotice(void*, const char*) {}

class PgDb final : public Db {
 public:
  explicit PgDb(const std::string& conninfo) : name_(Redact(conninfo)) {
    conn_ = PQconnectdb(conninfo.c_str());
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      throw DbError(fmt::format("{}: cannot connect: {}", name_, Trim(why)));
    }
    PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
  }
  ~PgDb() override { PQfinish(conn_); }

  DbDialect dialect() const override { return DbDialect::kPostgres; }
  const std::string& name() const override { return name_; }

  void ExecScript(const std::string& sql) override {
    PGresult* r = PQexec(conn_, sql.c_str());
    Check(r);
    PQclear(r);
  }

  std::vector<DbRow> Query(const std::string& sql, const std::vector<DbValue>& params) override {
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const DbValue& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) {
        continue;
      }
      if (auto* n = std::get_if<int64_t>(&v)) {
        text[i] = std::to_string(*n);
      } else if (auto* d = std::get_if<double>(&v)) {
        text[i] = fmt::format("{}", *d);
      } else {
        text[i] = std::get<std::string>(v);
      }
      values[i] = text[i].c_str();
    }
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    Check(r);
    std::vector<DbRow> rows;
    int n = PQntuples(r), cols = PQnfields(r);
    rows.reserve(n);
    for (int i = 0; i < n; ++i) {
      DbRow row(cols);
      for (int c = 0; c < cols; ++c) {
        if (!PQgetisnull(r, i, c)) {
          row[c] = std::string(PQgetvalue(r, i, c), PQgetlength(r, i, c));
        }
      }
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }

  void BeginWrite() override { ExecScript("BEGIN ISOLATION LEVEL READ COMMITTED"); }
  void Commit() override { ExecScript("COMMIT"); }
  void Rollback() noexcept override {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      PQclear(PQexec(conn_, "ROLLBACK"));
    }
  }
  void LockSchema() override {
    Query("SELECT pg_advisory_xact_lock($1)", {DbValue(kSchemaLockKey)});
  }
  bool HasTable(const std::string& table) override {
    return !Query(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_name = $1",
                {table})
                .empty();
  }
  int64_t TableCount() override {
    auto rows = Query(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()", {});
    return CellInt(rows.at(0).at(0)).value_or(0);
  }

 private:
  static std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
      s.pop_back();
    }
    for (char& c : s) {
      if (c == '\n') {
        c = ' ';
      }
    }
    return s;
  }
  void Check(PGresult* r) {
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      return;
    }
    std::string why = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
    PQclear(r);
    throw DbError(fmt::format("{}: {}", name_, Trim(why)));
  }

  std::string name_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<Db> OpenPostgres(const std::string& conninfo) {
  return std::make_unique<PgDb>(conninfo);
}

}  // namespace zbl::report
