#pragma once
// Reads the JSON claims inside a tracking token. Every click and impression
// verifies a token, so this is a small reader of exactly what sign_token
// writes (one flat object of strings and whole numbers, keys in any order)
// instead of a general JSON document.
#include "protocol/records.hpp"

#include <string_view>

namespace adserver {

/// Fills `out` from `json`; false when it is not one flat object whose
/// members are strings and whole numbers (int64), or a claim is missing or
/// of the wrong type. Unknown members are skipped; "xk"/"xv" are optional
/// (a variant without an experiment is dropped).
bool parse_token_payload(std::string_view json, token_claims& out);

}  // namespace adserver
