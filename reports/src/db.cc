#include "db.h"

#include <cerrno>
#include <cstdlib>

#include "fields.h"

namespace zbl::report {

std::unique_ptr<Db> OpenDb(const std::string& url, DbMode mode) {
  if (url.rfind("postgresql:", 0) == 0 || url.rfind("postgres:", 0) == 0) {
    return OpenPostgres(url);
  }
  if (url.rfind("sqlite:", 0) == 0) {
    return OpenSqlite(url.substr(7), mode);
  }
  if (url.empty()) {
    throw DbError("empty database name (want a file or postgresql://...)");
  }
  return OpenSqlite(url, mode);
}

std::optional<double> CellNum(const DbCell& c) {
  if (!c) {
    return std::nullopt;
  }
  return ParseNumber(*c);
}

std::optional<int64_t> CellInt(const DbCell& c) {
  if (!c || c->empty()) {
    return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(c->c_str(), &end, 10);
  if (errno != 0 || *end != '\0') {
    return std::nullopt;
  }
  return v;
}

std::string CellStr(const DbCell& c) { return c.value_or(""); }

}  // namespace zbl::report
