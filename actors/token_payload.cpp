#include "actors/token_payload.hpp"

#include "actors/text_normalize.hpp"

#include <charconv>
#include <cstdint>
#include <string>

namespace adserver {

namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// A cursor over one JSON text (RFC 8259 strings and integers only).
struct cursor {
  std::string_view s;
  size_t i = 0;

  void skip_space() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
      ++i;
  }
  bool take(char c) {
    skip_space();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  char peek() {
    skip_space();
    return i < s.size() ? s[i] : '\0';
  }
  bool hex4(uint32_t& v) {
    if (s.size() - i < 4)
      return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  bool string(std::string& out) {
    out.clear();
    if (!take('"'))
      return false;
    while (i < s.size()) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c == '"') {
        ++i;
        return is_valid_utf8(out);
      }
      if (c < 0x20)
        return false;
      if (c != '\\') {
        auto start = i;
        while (i < s.size() && s[i] != '"' && s[i] != '\\'
               && static_cast<unsigned char>(s[i]) >= 0x20)
          ++i;
        out.append(s.data() + start, i - start);
        continue;
      }
      if (++i >= s.size())
        return false;
      switch (s[i++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp) || (cp >= 0xDC00 && cp <= 0xDFFF))
            return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a pair: the low half must follow
            uint32_t low = 0;
            if (s.size() - i < 2 || s[i] != '\\' || s[i + 1] != 'u')
              return false;
            i += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF)
              return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  /// A whole number in int64; a fraction or exponent is not one.
  bool integer(int64_t& v) {
    skip_space();
    auto start = i;
    if (i < s.size() && s[i] == '-')
      ++i;
    auto digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    if (i == digits || (s[digits] == '0' && i - digits > 1))
      return false;
    if (i < s.size() && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
      return false;
    auto [end, err] = std::from_chars(s.data() + start, s.data() + i, v);
    return err == std::errc{} && end == s.data() + i;
  }
  bool literal(std::string_view word) {
    skip_space();
    if (s.substr(i, word.size()) != word)
      return false;
    i += word.size();
    return true;
  }
  /// Skips a member of no interest: a string, number or literal.
  bool skip_value() {
    std::string ignored;
    switch (peek()) {
      case '"': return string(ignored);
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: {
        skip_space();
        auto start = i;
        if (i < s.size() && s[i] == '-')
          ++i;
        while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e'
                                || s[i] == 'E' || s[i] == '+' || s[i] == '-'))
          ++i;
        return i > start;
      }
    }
  }
};

enum claim_bit : uint32_t {
  rid = 1u << 0, ad = 1u << 1, cid = 1u << 2, aid = 1u << 3, pid = 1u << 4, opid = 1u << 5,
  price = 1u << 6, bid = 1u << 7, dev = 1u << 8, sid = 1u << 9, plc = 1u << 10, q = 1u << 11,
  cat = 1u << 12, exp = 1u << 13,
  all_required = (1u << 14) - 1,
};

}  // namespace

bool parse_token_payload(std::string_view json, token_claims& out) {
  cursor in{json};
  if (!in.take('{'))
    return false;
  token_claims c;
  uint32_t seen = 0;
  std::string key;
  bool first = true;
  while (!in.take('}')) {
    if (!first && !in.take(','))
      return false;
    first = false;
    if (!in.string(key) || !in.take(':'))
      return false;
    auto text = [&](std::string& field, uint32_t bit) {
      seen |= bit;
      return in.string(field);
    };
    auto number = [&](int64_t& field, uint32_t bit) {
      seen |= bit;
      return in.integer(field);
    };
    bool ok;
    if (key == "rid") ok = text(c.request_id, rid);
    else if (key == "ad") ok = text(c.ad_id, ad);
    else if (key == "cid") ok = number(c.campaign_id, cid);
    else if (key == "aid") ok = number(c.advertiser_id, aid);
    else if (key == "pid") ok = text(c.product_id, pid);
    else if (key == "opid") ok = text(c.original_product_id, opid);
    else if (key == "price") ok = number(c.price, price);
    else if (key == "bid") ok = number(c.bid, bid);
    else if (key == "dev") ok = text(c.device_id, dev);
    else if (key == "sid") ok = text(c.session_id, sid);
    else if (key == "plc") ok = text(c.placement, plc);
    else if (key == "q") ok = text(c.search_term, q);
    else if (key == "cat") ok = text(c.category, cat);
    else if (key == "exp") ok = number(c.expires_at, exp);
    else if (key == "xk") ok = in.string(c.exp_key);
    else if (key == "xv") ok = in.string(c.exp_var);
    else ok = in.skip_value();
    if (!ok)
      return false;
  }
  in.skip_space();
  if (in.i != json.size() || (seen & all_required) != all_required)
    return false;
  if (c.exp_key.empty())
    c.exp_var.clear();  // a variant belongs to an experiment (sign_token writes both or neither)
  out = std::move(c);
  return true;
}

}  // namespace adserver
