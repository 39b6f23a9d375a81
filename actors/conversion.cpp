#include "actors/conversion.hpp"

#include "actors/deadline.hpp"
#include "actors/events.hpp"
#include "protocol/business_time.hpp"
#include "storage/statements.hpp"

#include <caf/typed_response_promise.hpp>

#include <map>

namespace adserver {

conversion_actor::behavior_type
conversions(conversion_actor::stateful_pointer<conversion_state> self, io_handles io,
            int64_t window_hours) {
  self->state.io = std::move(io);
  self->state.window_hours = window_hours;
  return {
    [=](convert_atom, conversion_request& req) -> caf::result<conversion_lines> {
      self->state.census.sample(self->mailbox().size());
      if (passed(req.due))
        return deadline_passed();
      auto promise = self->make_response_promise<conversion_lines>();
      std::vector<std::string> codes;
      for (auto& p : req.products)
        codes.push_back(p.product_id);
      auto window = self->state.window_hours;
      self->request(self->state.io.reader, caf::infinite, query_atom::value,
                    storage::conversion_attribution(req.device_id, window, codes))
        .then(
          [=](const pg_rows& clicks) mutable {
            // original code -> (click id, campaign, ad); served codes map too.
            struct hit {
              std::string original;
              int64_t click_id;
              int64_t campaign_id;
              std::string ad_id;
              std::string exp_key;
              std::string exp_var;
            };
            // Served (experiment) codes map to the same click as the original.
            std::map<std::string, hit> by_code;
            for (auto& c : clicks) {
              hit h{c[0], storage::to_int(c[1]), storage::to_int(c[2]), c[3], c[5], c[6]};
              by_code[c[4]] = h;
              by_code[c[0]] = h;
            }
            conversion_lines lines;
            std::vector<pg_statement> unit;
            std::vector<int64_t> click_ids;
            for (auto& p : req.products) {
              conversion_line line;
              line.product_id = p.product_id;
              line.revenue_amount = p.revenue_amount;
              int64_t click_id = 0;
              auto it = by_code.find(p.product_id);
              if (it != by_code.end()) {
                line.product_id = it->second.original;
                line.campaign_id = it->second.campaign_id;
                line.ad_id = it->second.ad_id;
                line.exp_key = it->second.exp_key;
                line.exp_var = it->second.exp_var;
                click_id = it->second.click_id;
              }
              unit.push_back(storage::conversion_insert(
                req.order_id, line.product_id, req.device_id, req.session_id,
                req.conversion_type, line.revenue_amount, line.campaign_id, line.ad_id, click_id));
              lines.push_back(std::move(line));
            }
            self->request(self->state.io.writer, caf::infinite, write_atom::value, unit,
                          req.due, idempotency_ticket{})
              .then(
                [=](const pg_results& results) mutable {
                  auto& st = self->state;
                  auto now = iso8601_now();
                  for (size_t i = 0; i < lines.size(); ++i) {
                    lines[i].counted = i < results.size() && !results[i].empty();
                    if (!lines[i].counted) {
                      ++st.repeated;
                      continue;
                    }
                    ++st.counted;
                    if (lines[i].campaign_id != 0)
                      ++st.attributed;
                    self->send(st.io.kafka, publish_atom::value,
                               conversion_event(req, lines[i], window, now));
                    // Only attributed conversions belong to a campaign.
                    if (lines[i].campaign_id != 0 && st.io.dashboards)
                      self->send(st.io.dashboards, track_atom::value,
                                 conversion_dashboard_event(req, lines[i], epoch_millis()));
                  }
                  promise.deliver(lines);
                },
                [=](caf::error& err) mutable { promise.deliver(err); });
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "conversions";
      r.figures = {{"counted", st.counted},
                   {"repeated", st.repeated},
                   {"attributed", st.attributed},
                   {"window_hours", st.window_hours}};
      return r;
    },
  };
}

}  // namespace adserver
