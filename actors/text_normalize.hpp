#pragma once
// Search terms and keywords (seed 000 step 1): trimmed, inner whitespace
// collapsed to one space, ASCII lower-cased; other UTF-8 (Korean) untouched.
#include <optional>
#include <string>

namespace adserver {

/// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool is_valid_utf8(const std::string& s);
/// Bytes of the well-formed UTF-8 character starting at s[i], or 0.
size_t utf8_sequence_at(const std::string& s, size_t i);
/// `s` with every byte that starts no well-formed character replaced by
/// U+FFFD (so it can be echoed in JSON).
std::string to_valid_utf8(const std::string& s);
/// Characters (code points) of valid UTF-8.
size_t utf8_length(const std::string& s);
/// The normalized term, or nothing when `s` is not valid UTF-8.
std::optional<std::string> normalize_term(const std::string& s);

}  // namespace adserver
