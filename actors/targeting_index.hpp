#pragma once
// Which search terms and category paths any campaign targets: lets the
// auction router (and the I/O threads, through auction_routes) answer requests no campaign can match without creating an
// auction or reading the database (random search terms must not become
// actors and queries). A superset: it only grows (paused or deleted
// campaigns' terms stay; they just get an empty auction).
#include "protocol/records.hpp"

#include <set>
#include <string>

namespace adserver {

class targeting_index {
public:
  /// Adds what a campaign targets (keywords normalized, category paths).
  void add(const std::vector<std::string>& keywords, const std::vector<std::string>& categories);
  /// Could any campaign target this validated, normalized request? HOME and
  /// PRODUCT_DETAIL always; SEARCH when the term is some campaign's keyword;
  /// CATEGORY when the path or one of its ancestors is targeted.
  bool may_match(const ad_request& req) const;
  /// The most specific targeted path that `category` is or lies under, or
  /// empty. Every campaign matching `category` targets it or an ancestor of
  /// it, so one auction per targeted path serves all the paths below it:
  /// random sub-paths (a/b/<random>) create no auction, query or Redis key.
  std::string targeted_category(const std::string& category) const;
  size_t size() const { return keywords_.size() + categories_.size(); }

private:
  std::set<std::string> keywords_;
  std::set<std::string> categories_;
};

}  // namespace adserver
