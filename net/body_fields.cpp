#include "net/body_fields.hpp"

#include "actors/text_normalize.hpp"
#include "actors/validation.hpp"
#include "net/json_codec.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace adserver::net {

caf::error read_string(const body_field& value, const char* field, bool required,
                       std::string& out) {
  using kind = body_field::kind;
  if (value.type == kind::absent || value.type == kind::null) {
    if (required)
      return validation_error(field, std::string{field} + " is required");
    return caf::none;
  }
  if (value.type != kind::string)
    return wrong_type(field, "a string");
  out = value.text;
  if (out.find('\0') != std::string::npos)
    return validation_error(field, std::string{field} + " must not contain NUL (\\u0000)");
  return caf::none;
}

caf::error read_int(const body_field& value, const char* field, bool required, int64_t& out) {
  using kind = body_field::kind;
  switch (value.type) {
    case kind::absent:
    case kind::null:
      if (required)
        return validation_error(field, std::string{field} + " is required");
      return caf::none;
    case kind::unsigned_integer:
      if (value.unsigned_integer > static_cast<uint64_t>(INT64_MAX))
        return wrong_type(field, "an integer in range");
      out = static_cast<int64_t>(value.unsigned_integer);
      return caf::none;
    case kind::integer:
      out = value.integer;
      return caf::none;
    default:
      return wrong_type(field, "an integer (won, no fractions)");
  }
}

/// A strict JSON reader (RFC 8259, as nlohmann::json reads it: a UTF-8 BOM
/// is skipped, strings must be well-formed UTF-8 (utf8_sequence_at), lone
/// surrogates are refused)
/// that keeps the values at depth 1 whose key is one of the names. Nesting
/// is bounded by check_nesting before it runs, so recursion is too.
class body_fields_reader {
public:
  body_fields_reader(body_fields& fields, const std::string& body)
    : fields_(fields),
      body_(body),
      begin_(reinterpret_cast<const unsigned char*>(body.data())),
      p_(begin_),
      end_(begin_ + body.size()) {}

  /// False when the body is not JSON; `top_is_object` tells the rest.
  bool read() {
    if (end_ - p_ >= 1 && p_[0] == 0xEF) {
      if (end_ - p_ < 3 || p_[1] != 0xBB || p_[2] != 0xBF)
        return false;
      p_ += 3;
    }
    skip_space();
    top_is_object_ = p_ < end_ && *p_ == '{';
    if (!value(0, nullptr))
      return false;
    skip_space();
    // nlohmann reads a NUL between tokens as the end of the input.
    return p_ == end_ || *p_ == '\0';
  }

  bool top_is_object() const { return top_is_object_; }

private:
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r'))
      ++p_;
  }

  bool literal(const char* text, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, text, n) != 0)
      return false;
    p_ += n;
    return true;
  }

  /// One value at `depth`; recorded in `slot` (a field of ours) if given.
  bool value(int depth, body_field* slot) {
    using kind = body_field::kind;
    if (p_ == end_)
      return false;
    switch (*p_) {
      case '{': record(slot, kind::other); return object(depth + 1);
      case '[': record(slot, kind::other); return array(depth + 1);
      case '"':
        record(slot, kind::string);
        if (slot)
          slot->text.clear();
        return string(slot ? &slot->text : nullptr);
      case 't': record(slot, kind::other); return literal("true", 4);
      case 'f': record(slot, kind::other); return literal("false", 5);
      case 'n': record(slot, kind::null); return literal("null", 4);
      default: return number(slot);
    }
  }

  /// `open item (, item)* close` (or `open close`), p_ on `open`.
  template <class Item>
  bool members(char close, Item item) {
    ++p_;
    skip_space();
    if (p_ < end_ && *p_ == close) {
      ++p_;
      return true;
    }
    for (;;) {
      if (!item())
        return false;
      skip_space();
      if (p_ == end_)
        return false;
      if (*p_ == close) {
        ++p_;
        return true;
      }
      if (*p_ != ',')
        return false;
      ++p_;
      skip_space();
    }
  }

  bool object(int depth) {
    return members('}', [&] {
      if (p_ == end_ || *p_ != '"')
        return false;
      key_.clear();
      if (!string(&key_))
        return false;
      skip_space();
      if (p_ == end_ || *p_ != ':')
        return false;
      ++p_;
      skip_space();
      return value(depth, depth == 1 ? field(key_) : nullptr);
    });
  }

  bool array(int depth) {
    return members(']', [&] { return value(depth, nullptr); });
  }

  body_field* field(const std::string& key) {
    for (size_t i = 0; i < fields_.names_.size(); ++i)
      if (key == fields_.names_[i])
        return &fields_.values_[i];
    return nullptr;
  }

  static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

  /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?: an integer that fits
  /// int64 (negative) or uint64 is one, anything else a float (`other`).
  bool number(body_field* slot) {
    auto start = p_;
    bool negative = false;
    if (*p_ == '-') {
      negative = true;
      ++p_;
    }
    if (p_ == end_ || !is_digit(*p_))
      return false;
    if (*p_ == '0')
      ++p_;
    else
      while (p_ < end_ && is_digit(*p_))
        ++p_;
    bool integral = true;
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ == end_ || !is_digit(*p_))
        return false;
      while (p_ < end_ && is_digit(*p_))
        ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-'))
        ++p_;
      if (p_ == end_ || !is_digit(*p_))
        return false;
      while (p_ < end_ && is_digit(*p_))
        ++p_;
    }
    auto first = reinterpret_cast<const char*>(start);
    auto last = reinterpret_cast<const char*>(p_);
    if (integral) {
      if (negative) {
        int64_t v = 0;
        auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec == std::errc{} && ptr == last) {
          record(slot, body_field::kind::integer).integer = v;
          return true;
        }
      } else {
        uint64_t v = 0;
        auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec == std::errc{} && ptr == last) {
          record(slot, body_field::kind::unsigned_integer).unsigned_integer = v;
          return true;
        }
      }
    }
    // A float (or an integer too large for 64 bits): nlohmann refuses one
    // that overflows a double.
    if (!std::isfinite(std::strtod(std::string(first, last).c_str(), nullptr)))
      return false;
    record(slot, body_field::kind::other);
    return true;
  }

  /// The slot's kind set (a scratch field when the value is not ours).
  body_field& record(body_field* slot, body_field::kind k) {
    body_field& f = slot ? *slot : scratch_;
    f.type = k;
    return f;
  }

  /// The four hex digits after `\u`; -1 if they are not.
  int code_unit() {
    if (end_ - p_ < 4)
      return -1;
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_digit(p_[i]);
      if (h < 0)
        return -1;
      v = v * 16 + h;
    }
    p_ += 4;
    return v;
  }

  static void append_utf8(std::string* out, uint32_t cp) {
    if (!out)
      return;
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  /// After a backslash: one escape, decoded into `out` (if given).
  bool escape(std::string* out) {
    if (p_ == end_)
      return false;
    char plain = 0;
    switch (*p_++) {
      case '"': plain = '"'; break;
      case '\\': plain = '\\'; break;
      case '/': plain = '/'; break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': {
        int unit = code_unit();
        if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF))
          return false;
        uint32_t cp = static_cast<uint32_t>(unit);
        if (unit >= 0xD800 && unit <= 0xDBFF) {  // a high surrogate: its low one follows
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u')
            return false;
          p_ += 2;
          int low = code_unit();
          if (low < 0xDC00 || low > 0xDFFF)
            return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + static_cast<uint32_t>(low - 0xDC00);
        }
        append_utf8(out, cp);
        return true;
      }
      default: return false;
    }
    if (out)
      out->push_back(plain);
    return true;
  }

  /// A string at p_ (on its opening quote), decoded into `out` if given.
  bool string(std::string* out) {
    ++p_;  // "
    for (;;) {
      // A run of plain bytes is copied at once.
      auto run = p_;
      while (p_ < end_ && *p_ >= 0x20 && *p_ < 0x80 && *p_ != '"' && *p_ != '\\')
        ++p_;
      if (out && p_ != run)
        out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p_ - run));
      if (p_ == end_)
        return false;
      unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        ++p_;
        if (!escape(out))
          return false;
        continue;
      }
      if (c < 0x20)
        return false;  // control characters must be escaped
      auto n = utf8_sequence_at(body_, static_cast<size_t>(p_ - begin_));
      if (n == 0)
        return false;
      if (out)
        out->append(reinterpret_cast<const char*>(p_), n);
      p_ += n;
    }
  }

  body_fields& fields_;
  const std::string& body_;
  const unsigned char* begin_;
  const unsigned char* p_;
  const unsigned char* end_;
  bool top_is_object_ = false;
  std::string key_;
  body_field scratch_;
};

body_fields::body_fields(std::initializer_list<const char*> names)
  : names_(names), values_(names.size()) {
}

caf::error body_fields::parse(const std::string& body) {
  parsed_ = false;
  for (auto& v : values_) {
    v.type = body_field::kind::absent;
    v.text.clear();  // keeps its capacity for the next body
  }
  if (auto err = check_nesting(body))
    return err;
  body_fields_reader reader{*this, body};
  if (!reader.read())
    return not_json_error();
  if (!reader.top_is_object())
    return not_object_error();
  parsed_ = true;
  return caf::none;
}

const body_field& body_fields::operator[](const char* name) const {
  if (!parsed_)
    return absent_;
  for (size_t i = 0; i < names_.size(); ++i)
    if (std::strcmp(names_[i], name) == 0)
      return values_[i];
  return absent_;
}

}  // namespace adserver::net
