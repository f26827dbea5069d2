// The results database schema and its versioned migrations (reports/README.md, "Results
// database", describes the tables).
//
// Migration N turns a version N-1 database into version N; each is applied once, in order, inside
// one transaction that also records it in zbl_schema, so a database is always at a version some
// zbl knew. Concurrent processes serialize on the schema lock (Db::LockSchema).
#pragma once

#include <string>
#include <vector>

#include "db.h"

namespace zbl::report {

struct Migration {
  int version;
  const char* what;  // one line, for zbl_schema and --help
  const char* sql;   // "{id}" stands for the dialect's auto-numbered primary key column type
};

const std::vector<Migration>& Migrations();
int LatestSchemaVersion();

// The database's schema version: 0 for an empty database. Throws DbError for a database that
// holds tables but no zbl_schema (a foreign database) or a version newer than this zbl knows.
int SchemaVersion(Db& db);

// Brings the database to `target` (default: the latest) and returns the version before. Throws
// DbError as SchemaVersion does; on a failed migration nothing of it stays.
int Migrate(Db& db, int target = -1);

// For reading: throws DbError unless the database is at the latest version (an empty or older
// database is named, with the command that creates or upgrades it).
void RequireCurrentSchema(Db& db);

}  // namespace zbl::report
