#include "actors/targeting_index.hpp"

namespace adserver {

void targeting_index::add(const std::vector<std::string>& keywords,
                          const std::vector<std::string>& categories) {
  keywords_.insert(keywords.begin(), keywords.end());
  categories_.insert(categories.begin(), categories.end());
}

bool targeting_index::may_match(const ad_request& req) const {
  if (req.placement == "SEARCH")
    return keywords_.count(req.search_term) > 0;
  if (req.placement == "CATEGORY")
    return !targeted_category(req.category).empty();
  return true;
}

std::string targeting_index::targeted_category(const std::string& category) const {
  // "a/b" targets "a/b" and "a/b/c": look the path and its ancestors up.
  auto path = category;
  for (;;) {
    if (categories_.count(path) > 0)
      return path;
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
      return {};
    path.resize(slash);
  }
}

}  // namespace adserver
