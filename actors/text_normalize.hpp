#pragma once
// Search terms and keywords (seed 000 step 1): trimmed, inner whitespace
// collapsed to one space, ASCII lower-cased; other UTF-8 (Korean) untouched.
#include <optional>
#include <string>

namespace adserver {

/// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool is_valid_utf8(const std::string& s);
/// Characters (code points) of valid UTF-8.
size_t utf8_length(const std::string& s);
/// The normalized term, or nothing when `s` is not valid UTF-8.
std::optional<std::string> normalize_term(const std::string& s);

}  // namespace adserver
