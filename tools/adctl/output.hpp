#pragma once
// Human output: aligned tables (widths computed from the cells, numbers
// right-aligned), "name  value" blocks, and JSON values as short text.
#include <nlohmann/json_fwd.hpp>

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace adctl {

class table {
public:
  explicit table(std::vector<std::string> headers);
  void add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }
  size_t size() const { return rows_.size(); }
  /// Columns as wide as their widest cell (display width: Hangul and other
  /// wide characters count two); a column of numbers is right-aligned.
  void print(std::ostream& out, const std::string& indent = "") const;
  /// For rows that arrive in pages: prints the rows added since the last
  /// call (the header too, the first time), forgets them and flushes `out`.
  /// Columns are sized by the rows seen so far: a wider cell on a later page
  /// widens its column from there on; a column's alignment is settled by the
  /// first page that has values in it.
  void stream(std::ostream& out);

private:
  enum class column : unsigned char { unknown, numeric, text };
  struct layout {
    std::vector<size_t> width;
    std::vector<column> kind;
  };
  layout start() const;
  /// Widens `l` for the rows held; `settled`: kinds already known stay.
  void fit(layout& l, bool settled) const;
  void line(std::ostream& out, const std::vector<std::string>& cells, const layout& l,
            const std::string& indent) const;

  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  layout streamed_;  // stream(): the layout so far
  bool header_streamed_ = false;
};

/// "name   value" lines with the names padded to one width.
void print_fields(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& fields,
                  const std::string& indent = "");

/// A JSON value as a cell: strings bare, null and missing "-", integers as
/// they are, fractions with up to 3 decimals, objects and arrays compact.
std::string text(const nlohmann::json& v);
/// `j[key]` as text, "-" when j is no object or lacks the key.
std::string text(const nlohmann::json& j, const char* key);
/// A number with up to `decimals` decimals, trailing zeros dropped; "-" for null.
std::string decimal(const nlohmann::json& v, int decimals);
/// An object's entries as "A 1, B 2" ("none" when empty, "-" when null).
std::string entries(const nlohmann::json& obj);
/// A ratio (0.91) as a percentage ("91.0%"); "-" for null.
std::string percent(const nlohmann::json& v);
/// Milliseconds with two decimals ("1.25"); "-" for null.
std::string millis(const nlohmann::json& v);
/// Seconds as "3d 04h", "2h 03m", "4m 05s" or "12s".
std::string duration(int64_t seconds);
/// Bytes as "512 B", "3.4 KiB", "1.2 MiB".
std::string bytes(int64_t n);

/// Terminal columns a UTF-8 string takes.
size_t display_width(const std::string& s);

/// The actors' status protocol ({kind, key, figures, info}, also when figures
/// and info are flattened into the object) as a block of fields.
void print_status(std::ostream& out, const nlohmann::json& status);

/// --json output: the server's JSON, indented.
void print_json(std::ostream& out, const nlohmann::json& j);

}  // namespace adctl
