#pragma once
// The named top-level fields of a JSON object body, read in one pass without
// building a DOM. The ad request and the tracking calls are the hot
// endpoints: their bodies were parsed into an nlohmann tree (a std::map per
// object), which cost more allocations than the rest of the request, and
// nlohmann's reader alone was still 6 % of the ad path. What is accepted,
// what is refused and with which error are parse_object's and
// read_string/read_int's, exactly (a unit test and a fuzz target compare
// both readings).
#include <caf/error.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace adserver::net {

/// One top-level value as the readers see it.
struct body_field {
  enum class kind { absent, null, string, integer, unsigned_integer, other };
  kind type = kind::absent;
  std::string text;       // kind::string
  int64_t integer = 0;    // kind::integer
  uint64_t unsigned_integer = 0;  // kind::unsigned_integer
};

/// VALIDATION_FAILED naming the field when it is present but not a string,
/// required and absent (or null), or holds NUL; otherwise `out` (left alone
/// when absent).
caf::error read_string(const body_field& value, const char* field, bool required,
                       std::string& out);
/// The same for an integer that fits int64 (no fractions).
caf::error read_int(const body_field& value, const char* field, bool required, int64_t& out);

class body_fields {
public:
  /// Keeps the values of `names` only; other fields are checked and skipped.
  body_fields(std::initializer_list<const char*> names);

  /// Reads `body`: VALIDATION_FAILED with parse_object's messages when it is
  /// nested too deep, not JSON or not an object.
  caf::error parse(const std::string& body);

  /// The value of one of the names given at construction (last one wins, as
  /// in a parsed object); absent for any other name, and for every name
  /// after a parse that failed.
  const body_field& operator[](const char* name) const;

  caf::error read_string(const char* field, bool required, std::string& out) const {
    return net::read_string((*this)[field], field, required, out);
  }
  caf::error read_int(const char* field, bool required, int64_t& out) const {
    return net::read_int((*this)[field], field, required, out);
  }

private:
  friend class body_fields_reader;
  std::vector<const char*> names_;
  std::vector<body_field> values_;
  body_field absent_;
  bool parsed_ = false;  // the last parse succeeded
};

}  // namespace adserver::net
