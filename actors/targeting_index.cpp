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
  if (req.placement == "CATEGORY") {
    // "a/b" targets "a/b" and "a/b/c": look the path and its ancestors up.
    auto path = req.category;
    for (;;) {
      if (categories_.count(path) > 0)
        return true;
      auto slash = path.rfind('/');
      if (slash == std::string::npos)
        return false;
      path.resize(slash);
    }
  }
  return true;
}

}  // namespace adserver
