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

/// True when every embedded migration is recorded as applied.
bool migrations_current(const std::string& conninfo, std::string& why);

}  // namespace adserver::storage
