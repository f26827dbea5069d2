#include "db.h"

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "fields.h"

namespace zbl::report {

std::unique_ptr<Db> OpenDb(const std::string& url, DbMode mode) {
  for (const char* scheme : {"postgresql:", "postgres:"}) {
    std::string_view prefix(scheme);
    if (url.compare(0, prefix.size(), prefix) == 0) {
      // A URI goes to libpq whole; "postgresql:host=... dbname=..." is a key=value conninfo.
      bool uri = url.compare(prefix.size(), 2, "//") == 0;
      return OpenPostgres(uri ? url : url.substr(prefix.size()));
    }
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
