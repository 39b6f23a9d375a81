#include "actors/registrar.hpp"

#include "actors/campaign.hpp"
#include "actors/campaign_logic.hpp"
#include "actors/deadline.hpp"
#include "actors/events.hpp"
#include "actors/ledger.hpp"
#include "actors/text_normalize.hpp"
#include "actors/validation.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "protocol/redis_keys.hpp"
#include "storage/statements.hpp"

#include <caf/typed_response_promise.hpp>

namespace adserver {

namespace {

using self_ptr = registrar_actor::stateful_pointer<registrar_state>;

caf::error inactive(const std::string& what, const std::string& field, const std::string& id,
                    const std::string& id_json) {
  return make_error(ec::reference_inactive, what + " " + id + " is not active",
                    "{\"" + field + "\":" + id_json + "}");
}

void create_campaign(self_ptr self, campaign_record spec, request_meta meta,
                     caf::typed_response_promise<campaign_record> promise) {
  auto fail = [=](caf::error& err) mutable { promise.deliver(err); };
  auto who = meta.who;
  // Every reference is checked by the application (no foreign keys).
  self->request(self->state.directory, std::chrono::seconds(30), ledger_atom::value,
                spec.advertiser_id)
    .then(
      [=](ledger_actor& l) mutable {
        self->request(l, std::chrono::seconds(30), get_atom::value)
          .then(
            [=](const advertiser_record& adv) mutable {
              if (!adv.audit.activated) {
                auto id = std::to_string(adv.id);
                promise.deliver(inactive("advertiser", "advertiser_id", id, id));
                return;
              }
              self->request(self->state.catalog, std::chrono::seconds(30), get_atom::value,
                            spec.product_id)
                .then(
                  [=](const product_record& p) mutable {
                    if (!p.audit.activated) {
                      promise.deliver(inactive("product", "product_id", p.product_id,
                                               json_quote(p.product_id)));
                      return;
                    }
                    self->request(self->state.io.writer, caf::infinite, write_atom::value,
                                  std::vector<pg_statement>{storage::campaign_create(spec, who)},
                                  meta.due, meta.ticket)
                      .then(
                        [=](const pg_results& res) mutable {
                          if (res.empty() || res[0].empty()) {
                            promise.deliver(make_error(ec::internal, "campaign not stored"));
                            return;
                          }
                          auto rec = storage::parse_campaign(res[0][0]);
                          auto& st = self->state;
                          ++st.campaigns_created;
                          self->send(l, campaign_atom::value,
                                     campaign_limits(rec, business_today()));
                          self->send(st.io.kafka, publish_atom::value,
                                     campaign_event("CAMPAIGN_CREATED", rec, who));
                          // Answered once its targeting is known to the
                          // router (read your writes).
                          tell_then_answer(
                            self, st.auctions, meta.due, change_ack_timeout,
                            [=]() mutable { promise.deliver(rec); }, create_atom::value, rec);
                        },
                        fail);
                  },
                  fail);
            },
            fail);
      },
      fail);
}

}  // namespace

registrar_actor::behavior_type registrar(registrar_actor::stateful_pointer<registrar_state> self,
                                         io_handles io, catalog_actor catalog,
                                         directory_actor directory,
                                         auction_router_actor auctions) {
  self->state.io = std::move(io);
  self->state.catalog = std::move(catalog);
  self->state.directory = std::move(directory);
  self->state.auctions = std::move(auctions);
  return {
    [=](create_atom, advertiser_spec& spec,
        request_meta& meta) -> caf::result<advertiser_record> {
      if (passed(meta.due))
        return deadline_passed();
      if (auto err = validate(spec))
        return err;
      auto promise = self->make_response_promise<advertiser_record>();
      auto bn = spec.business_number;
      self->request(self->state.io.writer, caf::infinite, write_atom::value,
                    std::vector<pg_statement>{storage::advertiser_create(spec, meta.who)},
                    meta.due, meta.ticket)
        .then(
          [=](const pg_results& res) mutable {
            if (res.empty() || res[0].empty()) {
              promise.deliver(make_error(
                ec::conflict, "business_number " + bn + " is already registered",
                "{\"field\":\"business_number\",\"business_number\":" + json_quote(bn) + "}"));
              return;
            }
            auto created = storage::parse_advertiser(res[0][0]);
            ++self->state.advertisers_created;
            // Its ledger activates from PostgreSQL on first use.
            self->send(self->state.io.redis, set_atom::value, balance_key(created.id),
                       std::to_string(created.balance), int64_t{0});
            promise.deliver(created);
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](create_atom, campaign_record& spec, request_meta& meta) -> caf::result<campaign_record> {
      if (passed(meta.due))
        return deadline_passed();
      // Keywords are stored normalized, as search terms are matched.
      for (auto& k : spec.keywords) {
        auto normalized = normalize_term(k);
        if (!normalized)
          return validation_error("targeting.keywords", "keywords must be valid UTF-8");
        k = *normalized;
      }
      if (auto err = validate_new_campaign(spec, business_today()))
        return err;
      auto promise = self->make_response_promise<campaign_record>();
      create_campaign(self, std::move(spec), std::move(meta), promise);
      return promise;
    },
    [=](status_atom) {
      auto& st = self->state;
      st.census.sample(self->mailbox().size());
      status_record r;
      r.kind = "registrar";
      r.figures = {{"advertisers_created", st.advertisers_created},
                   {"campaigns_created", st.campaigns_created}};
      return r;
    },
  };
}

}  // namespace adserver
