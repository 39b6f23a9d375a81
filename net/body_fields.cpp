#include "net/body_fields.hpp"

#include "actors/validation.hpp"
#include "net/json_codec.hpp"

#include <nlohmann/json.hpp>

#include <cstring>

namespace adserver::net {

using nlohmann::json;

namespace {

caf::error wrong_type(const char* field, const char* expected) {
  return validation_error(field, std::string{field} + " must be " + expected);
}

}  // namespace

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

/// nlohmann's SAX events for one body: values at depth 1 whose key is one of
/// the names are kept; everything else is only checked by the parser.
class body_fields_reader {
public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit body_fields_reader(body_fields& fields) : fields_(fields) {}

  bool top_is_object() const { return top_is_object_; }

  bool null() { return scalar(body_field::kind::null); }
  bool boolean(bool) { return scalar(body_field::kind::other); }
  bool number_integer(number_integer_t v) {
    if (auto* f = current())
      f->integer = v;
    return scalar(body_field::kind::integer);
  }
  bool number_unsigned(number_unsigned_t v) {
    if (auto* f = current())
      f->unsigned_integer = v;
    return scalar(body_field::kind::unsigned_integer);
  }
  bool number_float(number_float_t, const string_t&) {
    return scalar(body_field::kind::other);
  }
  bool string(string_t& v) {
    if (auto* f = current())
      f->text.assign(v);
    return scalar(body_field::kind::string);
  }
  bool binary(binary_t&) { return scalar(body_field::kind::other); }
  bool start_object(std::size_t) {
    if (depth_ == 0)
      top_is_object_ = true;
    scalar(body_field::kind::other);
    ++depth_;
    return true;
  }
  bool end_object() {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) {
    scalar(body_field::kind::other);
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(string_t& k) {
    if (depth_ == 1) {
      field_ = -1;
      for (size_t i = 0; i < fields_.names_.size(); ++i)
        if (k == fields_.names_[i]) {
          field_ = static_cast<int>(i);
          break;
        }
    }
    return true;
  }
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception&) {
    return false;
  }

private:
  /// The field the next value at depth 1 belongs to, if it is one of ours.
  body_field* current() {
    if (depth_ != 1 || field_ < 0)
      return nullptr;
    return &fields_.values_[static_cast<size_t>(field_)];
  }

  /// Records the kind of a value (a nested object or array is `other`).
  bool scalar(body_field::kind k) {
    if (auto* f = current()) {
      f->type = k;
      field_ = -1;
    }
    return true;
  }

  body_fields& fields_;
  int depth_ = 0;
  int field_ = -1;
  bool top_is_object_ = false;
};

body_fields::body_fields(std::initializer_list<const char*> names)
  : names_(names), values_(names.size()) {
}

caf::error body_fields::parse(const std::string& body) {
  if (auto err = check_nesting(body))
    return err;
  for (auto& v : values_)
    v = body_field{};
  body_fields_reader reader{*this};
  if (!json::sax_parse(body, &reader))
    return not_json_error();
  if (!reader.top_is_object())
    return not_object_error();
  return caf::none;
}

const body_field& body_fields::operator[](const char* name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (std::strcmp(names_[i], name) == 0)
      return values_[i];
  return absent_;
}

}  // namespace adserver::net
