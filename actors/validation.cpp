#include "actors/validation.hpp"

#include "actors/pacing.hpp"
#include "actors/text_normalize.hpp"
#include "protocol/errors.hpp"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>

namespace adserver {

namespace {

bool digits(const std::string& s, size_t from, size_t n) {
  for (size_t i = from; i < from + n; ++i)
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

caf::error require_text(const std::string& field, const std::string& value,
                        size_t max_chars) {
  if (value.empty())
    return validation_error(field, field + " is required");
  if (utf8_length(value) > max_chars)
    return validation_error(field, field + " is longer than "
                                     + std::to_string(max_chars) + " characters");
  return caf::none;
}

caf::error require_money(const std::string& field, int64_t value, bool allow_zero) {
  if (value < 0 || (!allow_zero && value == 0))
    return validation_error(field, field + " must be a positive integer amount of won");
  if (value > max_money)
    return validation_error(field, field + " is too large");
  return caf::none;
}

}  // namespace

std::string json_quote(const std::string& s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

namespace {

/// How many leading bytes of `s` are plain: printable ASCII other than '"'
/// and '\\', copied as they are. Eight bytes at a time: the ids and tokens of
/// an ad answer are all plain, and this was the busiest loop of the reply.
size_t plain_prefix(const std::string& s) {
  constexpr uint64_t ones = 0x0101010101010101ULL;
  constexpr uint64_t highs = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - ones) & ~v & highs; };
  const char* p = s.data();
  size_t n = s.size(), i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    // A byte >= 0x80, < 0x20, '"' or '\\' stops the fast scan.
    uint64_t stop = (v & highs) | ((v - 0x20 * ones) & ~v & highs) | has_zero(v ^ (0x22 * ones))
                    | has_zero(v ^ (0x5c * ones));
    if (stop != 0)
      break;
  }
  for (; i < n; ++i) {
    auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
      break;
  }
  return i;
}

}  // namespace

void append_json_string(std::string& out, const std::string& s) {
  auto plain = plain_prefix(s);
  if (plain == s.size()) {  // the usual case: one copy
    out.reserve(out.size() + s.size() + 2);
    out += '"';
    out += s;
    out += '"';
    return;
  }
  // JSON text must be UTF-8: what is not (a path, a client's bytes) is
  // repaired first. Valid input, the usual case, takes the plain loop below.
  for (unsigned char c : s)
    if (c >= 0x80) {
      if (!is_valid_utf8(s)) {
        append_json_string(out, to_valid_utf8(s));
        return;
      }
      break;
    }
  out += '"';
  // Runs of characters that need no escape are copied at once.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s, run, std::string::npos);
  out += '"';
}

caf::error validation_error(const std::string& field, const std::string& message) {
  return make_error(ec::validation_failed, message,
                    "{\"field\":" + json_quote(field) + "}");
}

bool is_business_number(const std::string& s) {
  return s.size() == 12 && digits(s, 0, 3) && s[3] == '-' && digits(s, 4, 2)
         && s[6] == '-' && digits(s, 7, 5);
}

bool is_email(const std::string& s) {
  if (s.size() > 254)
    return false;
  auto at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos)
    return false;
  auto domain = s.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 2 > domain.size())
    return false;
  if (domain.find("..") != std::string::npos || domain.front() == '.'
      || domain.back() == '.')
    return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f || c == ',' || c == ';' || c == '<' || c == '>')
      return false;
  return true;
}

bool is_calendar_date(const std::string& s) {
  if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2)
      || s[7] != '-' || !digits(s, 8, 2))
    return false;
  int y = std::stoi(s.substr(0, 4));
  int m = std::stoi(s.substr(5, 2));
  int d = std::stoi(s.substr(8, 2));
  if (y < 2000 || y > 9999 || m < 1 || m > 12 || d < 1)
    return false;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int limit = days[m - 1] + (m == 2 && leap ? 1 : 0);
  return d <= limit;
}

bool is_placement(const std::string& s) {
  return placement_index(s) >= 0;
}

caf::error check_delivery(const std::string& delivery) {
  if (!is_delivery(delivery))
    return validation_error("delivery", "delivery must be \"STANDARD\" or \"ACCELERATED\"");
  return caf::none;
}

int placement_index(const std::string& s) {
  for (int i = 0; i < 4; ++i)
    if (s == placement_names[i])
      return i;
  return -1;
}

caf::error validate(const experiment_mapping& x) {
  if (auto err = require_text("exp_key", x.exp_key, 100))
    return err;
  if (auto err = require_text("exp_var", x.exp_var, 100))
    return err;
  if (auto err = require_text("original_product_id", x.original_product_id, 100))
    return err;
  if (auto err = require_text("experiment_product_id", x.experiment_product_id, 100))
    return err;
  if (x.experiment_product_id == x.original_product_id)
    return validation_error("experiment_product_id",
                            "experiment_product_id must differ from original_product_id");
  if (!is_calendar_date(x.start_date))
    return validation_error("start_date", "start_date must be a date YYYY-MM-DD");
  if (!is_calendar_date(x.end_date))
    return validation_error("end_date", "end_date must be a date YYYY-MM-DD");
  if (x.end_date < x.start_date)
    return validation_error("end_date", "end_date is before start_date");
  return caf::none;
}

int hex_digit(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool is_uuid(const std::string& s) {
  if (s.size() != 36)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-')
        return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

bool is_iso8601_timestamp(const std::string& s) {
  auto digits = [&](size_t from, size_t n) {
    if (from + n > s.size())
      return false;
    for (size_t i = from; i < from + n; ++i)
      if (s[i] < '0' || s[i] > '9')
        return false;
    return true;
  };
  if (s.size() < 20 || !is_calendar_date(s.substr(0, 10)) || (s[10] != 'T' && s[10] != 't'))
    return false;
  if (!digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' || !digits(17, 2))
    return false;
  if (std::stoi(s.substr(11, 2)) > 23 || std::stoi(s.substr(14, 2)) > 59
      || std::stoi(s.substr(17, 2)) > 60)
    return false;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    if (i == start || i - start > 9)
      return false;
  }
  if (i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z'))
    return true;
  return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && digits(i + 1, 2)
         && s[i + 3] == ':' && digits(i + 4, 2) && std::stoi(s.substr(i + 1, 2)) <= 23
         && std::stoi(s.substr(i + 4, 2)) <= 59;
}

caf::error check_session_id(const std::string& session_id) {
  if (session_id.size() > max_session_id_bytes || !is_valid_utf8(session_id))
    return validation_error("session_id", "session_id is longer than "
                                            + std::to_string(max_session_id_bytes)
                                            + " bytes or not UTF-8");
  return caf::none;
}

caf::error check_ad_request(ad_request& x) {
  if (x.device_id.empty())
    return validation_error("device_id", "device_id is required");
  if (!is_uuid(x.device_id))
    return validation_error("device_id", "device_id must be a 36-character UUID");
  if (x.session_id.empty())
    return validation_error("session_id", "session_id is required");
  if (auto err = check_session_id(x.session_id))
    return err;
  if (x.placement.empty())
    return validation_error("placement", "placement is required");
  if (!is_placement(x.placement))
    return validation_error("placement",
                            "placement must be HOME, CATEGORY, SEARCH or PRODUCT_DETAIL");
  if (x.max_ads < 1 || x.max_ads > 10)
    return validation_error("max_ads", "max_ads must be an integer from 1 to 10");
  if (x.placement == "SEARCH") {
    auto term = normalize_term(x.search_term);
    if (!term)
      return validation_error("search_term", "search_term must be valid UTF-8");
    if (term->empty())
      return validation_error("search_term", "search_term is required for SEARCH");
    auto n = utf8_length(*term);
    if (n < 2 || n > 100)
      return validation_error("search_term", "search_term must have 2-100 characters");
    x.search_term = *term;
  } else {
    x.search_term.clear();
  }
  if (x.placement == "CATEGORY") {
    if (x.category.empty())
      return validation_error("category", "category is required for CATEGORY");
    if (!is_category_path(x.category))
      return validation_error("category", "category must look like a/b/c");
  } else {
    x.category.clear();
  }
  if (x.exp_key.empty() != x.exp_var.empty())
    return validation_error(x.exp_key.empty() ? "exp_key" : "exp_var",
                            "exp_key and exp_var go together");
  if (x.exp_key.size() > 100 || !is_valid_utf8(x.exp_key))
    return validation_error("exp_key", "exp_key must be UTF-8 of at most 100 bytes");
  if (x.exp_var.size() > 100 || !is_valid_utf8(x.exp_var))
    return validation_error("exp_var", "exp_var must be UTF-8 of at most 100 bytes");
  return caf::none;
}

std::string auction_key(const ad_request& x) {
  return x.placement + ":" + (x.placement == "SEARCH" ? x.search_term : x.category);
}

bool is_category_path(const std::string& s) {
  return !s.empty() && s.size() <= 200 && is_valid_utf8(s) && s.front() != '/'
         && s.back() != '/' && s.find("//") == std::string::npos;
}

caf::error validate(const advertiser_spec& x) {
  if (auto err = require_text("advertiser_name", x.advertiser_name, 200))
    return err;
  if (x.business_number.empty())
    return validation_error("business_number", "business_number is required");
  if (!is_business_number(x.business_number))
    return validation_error("business_number",
                            "business_number must look like 123-45-67890");
  if (x.email.empty())
    return validation_error("email", "email is required");
  if (!is_email(x.email))
    return validation_error("email", "email is not a valid address");
  if (auto err = require_text("business_type", x.business_type, 100))
    return err;
  return require_money("initial_balance", x.initial_balance, true);
}

caf::error validate(const balance_change& x) {
  if (x.action != "charge" && x.action != "deduct")
    return validation_error("action", "action must be \"charge\" or \"deduct\"");
  if (auto err = require_money("amount", x.amount, false))
    return err;
  if (x.memo.size() > 500)
    return validation_error("memo", "memo is longer than 500 bytes");
  return caf::none;
}

caf::error validate(const product_record& x) {
  if (auto err = require_text("product_id", x.product_id, 100))
    return err;
  for (unsigned char c : x.product_id)
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.'))
      return validation_error("product_id",
                              "product_id may contain only letters, digits, _ - .");
  if (auto err = require_text("product_name", x.product_name, 200))
    return err;
  if (auto err = require_text("category", x.category, 200))
    return err;
  if (!is_category_path(x.category))
    return validation_error("category", "category must look like a/b/c");
  return require_money("price", x.price, true);
}

caf::error validate_bids(const placement_bids& bids) {
  for (auto& [placement, bid] : bids) {
    if (!is_placement(placement))
      return validation_error("bids." + placement,
                              "unknown placement " + placement
                                + " (HOME, CATEGORY, SEARCH, PRODUCT_DETAIL)");
    if (auto err = require_money("bids." + placement, bid, false))
      return err;
  }
  return caf::none;
}

caf::error validate_new_campaign(const campaign_record& x, const std::string& today) {
  if (x.advertiser_id <= 0)
    return validation_error("advertiser_id", "advertiser_id is required");
  if (auto err = require_text("campaign_name", x.campaign_name, 200))
    return err;
  if (x.campaign_type != "CPC")
    return validation_error("campaign_type", "campaign_type must be \"CPC\"");
  if (auto err = require_text("product_id", x.product_id, 100))
    return err;
  if (!is_calendar_date(x.start_date))
    return validation_error("start_date", "start_date must be a date YYYY-MM-DD");
  if (!is_calendar_date(x.end_date))
    return validation_error("end_date", "end_date must be a date YYYY-MM-DD");
  if (x.end_date < x.start_date)
    return validation_error("end_date", "end_date is before start_date");
  if (x.end_date < today)
    return validation_error("end_date", "end_date is in the past");
  if (auto err = require_money("daily_budget", x.daily_budget, false))
    return err;
  if (auto err = require_money("total_budget", x.total_budget, false))
    return err;
  if (x.daily_budget > x.total_budget)
    return validation_error("daily_budget", "daily_budget exceeds total_budget");
  if (auto err = check_delivery(x.delivery))
    return err;
  if (x.categories.size() > 50)
    return validation_error("targeting.categories", "at most 50 categories");
  for (auto& c : x.categories)
    if (!is_category_path(c))
      return validation_error("targeting.categories",
                              "each category must look like a/b/c");
  if (x.keywords.size() > 100)
    return validation_error("targeting.keywords", "at most 100 keywords");
  std::set<std::string> seen;
  for (auto& k : x.keywords) {
    auto n = utf8_length(k);
    if (n < 2 || n > 100)
      return validation_error("targeting.keywords",
                              "each keyword must have 2-100 characters");
    if (!seen.insert(k).second)
      return validation_error("targeting.keywords", "duplicate keyword " + k);
  }
  return validate_bids(x.bids);
}

}  // namespace adserver
