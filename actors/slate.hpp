#pragma once
// From a ranked list to what one ad request is served: the top ads as token
// claims (the auction price fixed in them), then signed. Plain functions.
#include "actors/ranking.hpp"
#include "protocol/records.hpp"

namespace adserver {

/// The top `req.max_ads` ranked ads as unsigned claims, in rank order.
slate make_slate(const std::vector<ranked_ad>& ranked, const ad_request& req,
                 int64_t token_ttl_seconds, int64_t now_seconds);

/// One served ad per claim, with its signed token; experiment_applied where
/// the served code differs from the original.
served_ads sign_slate(const slate& s, const std::string& secret);

}  // namespace adserver
