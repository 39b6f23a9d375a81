#pragma once
// Versioned schema migrations, compiled in from storage/migrations/*.sql and
// applied at start-up.
#include <string>
#include <vector>

namespace adserver::storage {

struct migration {
  int version;
  const char* name;
  const char* sql;
};

/// All migrations in version order (generated file).
const std::vector<migration>& embedded_migrations();

/// Applies the missing migrations under an advisory lock (several nodes may
/// start at once). Returns an empty string or the reason it failed.
std::string apply_migrations(const std::string& conninfo);

/// Empty when every embedded migration is among `applied` (versions as
/// text), else which one is missing.
std::string missing_migration(const std::vector<std::string>& applied);

}  // namespace adserver::storage
