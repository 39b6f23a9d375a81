#include "tools/adctl/output.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace adctl {

using nlohmann::json;

namespace {

/// East Asian wide code points (Hangul syllables and jamo, CJK, fullwidth
/// forms): two terminal columns each.
bool wide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF)
         || (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF)
         || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60)
         || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF)
         || (cp >= 0x20000 && cp <= 0x3FFFD);
}

bool is_number(const std::string& s) {
  if (s.empty() || s == "-")
    return false;
  size_t i = s[0] == '-' ? 1 : 0;
  bool digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9')
      digit = true;
    else if (c != '.' && c != '%')
      return false;
  }
  return digit;
}

std::string pad(const std::string& s, size_t width, bool right) {
  auto w = display_width(s);
  std::string fill(width > w ? width - w : 0, ' ');
  return right ? fill + s : s + fill;
}

std::string trimmed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.')
      s.pop_back();
  }
  return s;
}

}  // namespace

size_t display_width(const std::string& s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t n = 1;
    if (c >= 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else if (c >= 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if (c >= 0xC0) {
      n = 2;
      cp = c & 0x1F;
    }
    for (size_t k = 1; k < n && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    width += wide(cp) ? 2 : 1;
    i += n;
  }
  return width;
}

table::table(std::vector<std::string> headers) : headers_(std::move(headers)) {
}

void table::add(std::vector<std::string> row) {
  row.resize(headers_.size());
  rows_.push_back(std::move(row));
}

table::layout table::start() const {
  layout l;
  for (auto& h : headers_)
    l.width.push_back(display_width(h));
  l.kind.assign(headers_.size(), column::unknown);
  return l;
}

void table::fit(layout& l, bool settled) const {
  for (size_t c = 0; c < headers_.size(); ++c) {
    bool decide = !settled || l.kind[c] == column::unknown;
    for (auto& row : rows_) {
      l.width[c] = std::max(l.width[c], display_width(row[c]));
      if (decide && row[c] != "-" && l.kind[c] != column::text)
        l.kind[c] = is_number(row[c]) ? column::numeric : column::text;
    }
  }
}

void table::line(std::ostream& out, const std::vector<std::string>& cells, const layout& l,
                 const std::string& indent) const {
  std::string s = indent;
  for (size_t c = 0; c < cells.size(); ++c) {
    bool last = c + 1 == cells.size();
    bool numeric = l.kind[c] == column::numeric;
    // The last column is not padded on the left unless it is numeric, nor
    // on the right at all: no trailing blanks.
    s += pad(cells[c], last && !numeric ? 0 : l.width[c], numeric);
    if (!last)
      s += "  ";
  }
  out << s << "\n";
}

void table::print(std::ostream& out, const std::string& indent) const {
  auto l = start();
  fit(l, false);
  line(out, headers_, l, indent);
  for (auto& row : rows_)
    line(out, row, l, indent);
}

void table::stream(std::ostream& out) {
  if (!header_streamed_)
    streamed_ = start();
  fit(streamed_, header_streamed_);
  if (!header_streamed_) {
    line(out, headers_, streamed_, "");
    header_streamed_ = true;
  }
  for (auto& row : rows_)
    line(out, row, streamed_, "");
  rows_.clear();
  out.flush();
}

void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields,
                  const std::string& indent) {
  size_t width = 0;
  for (auto& [name, value] : fields)
    width = std::max(width, display_width(name));
  for (auto& [name, value] : fields)
    out << indent << pad(name, width, false) << "  " << value << "\n";
}

std::string text(const json& v) {
  if (v.is_null())
    return "-";
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_boolean())
    return v.get<bool>() ? "yes" : "no";
  if (v.is_number_integer())
    return v.dump();
  if (v.is_number_float())
    return trimmed(v.get<double>(), 3);
  return v.dump();
}

std::string text(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key))
    return "-";
  return text(j.at(key));
}

std::string decimal(const json& v, int decimals) {
  if (!v.is_number())
    return text(v);
  if (v.is_number_integer())
    return v.dump();
  return trimmed(v.get<double>(), decimals);
}

std::string entries(const json& obj) {
  if (!obj.is_object())
    return text(obj);
  if (obj.empty())
    return "none";
  std::string out;
  for (auto it = obj.begin(); it != obj.end(); ++it)
    out += (out.empty() ? "" : ", ") + it.key() + " " + text(it.value());
  return out;
}

std::string percent(const json& v) {
  if (!v.is_number())
    return "-";
  return trimmed(v.get<double>() * 100.0, 1) + "%";
}

std::string millis(const json& v) {
  if (!v.is_number())
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v.get<double>());
  return buf;
}

std::string duration(int64_t s) {
  char buf[48];
  if (s >= 86400)
    std::snprintf(buf, sizeof buf, "%lldd %02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  else if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  return buf;
}

std::string bytes(int64_t n) {
  if (n < 1024)
    return std::to_string(n) + " B";
  if (n < 1024 * 1024)
    return trimmed(n / 1024.0, 1) + " KiB";
  return trimmed(n / (1024.0 * 1024.0), 1) + " MiB";
}

void print_status(std::ostream& out, const json& status) {
  if (!status.is_object()) {
    out << "status  " << text(status) << "\n";
    return;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  auto who = text(status, "kind");
  if (status.contains("key") && !text(status, "key").empty())
    who += " " + text(status, "key");
  fields.emplace_back("actor", who);
  auto add_all = [&fields](const json& obj) {
    for (auto it = obj.begin(); it != obj.end(); ++it)
      fields.emplace_back(it.key(), text(it.value()));
  };
  bool nested = false;
  for (const char* part : {"figures", "info"})
    if (status.contains(part) && status[part].is_object()) {
      add_all(status[part]);
      nested = true;
    }
  if (!nested)  // figures and info flattened into the record
    for (auto it = status.begin(); it != status.end(); ++it)
      if (it.key() != "kind" && it.key() != "key")
        fields.emplace_back(it.key(), text(it.value()));
  print_fields(out, fields);
}

void print_json(std::ostream& out, const json& j) {
  out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

}  // namespace adctl
