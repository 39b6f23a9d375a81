#include "actors/catalog.hpp"

#include "actors/deadline.hpp"
#include "actors/validation.hpp"
#include "protocol/errors.hpp"
#include "storage/statements.hpp"

#include <caf/typed_response_promise.hpp>

namespace adserver {

catalog_actor::behavior_type catalog(catalog_actor::stateful_pointer<catalog_state> self,
                                     io_handles io) {
  self->state.io = std::move(io);
  return {
    [=](create_atom, product_record& p, request_meta& meta) -> caf::result<product_record> {
      if (passed(meta.due))
        return deadline_passed();
      if (auto err = validate(p))
        return err;
      auto promise = self->make_response_promise<product_record>();
      auto id = p.product_id;
      self->request(self->state.io.writer, caf::infinite, write_atom::value,
                    std::vector<pg_statement>{storage::product_create(p, meta.who)}, meta.due,
                    idempotency_ticket{})
        .then(
          [=](const pg_results& res) mutable {
            if (res.empty() || res[0].empty()) {
              promise.deliver(make_error(ec::conflict, "product " + id + " already exists",
                                         "{\"product_id\":" + json_quote(id) + "}"));
              return;
            }
            auto rec = storage::parse_product(res[0][0]);
            self->state.products[rec.product_id] = rec;
            ++self->state.created;
            promise.deliver(rec);
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](get_atom, const std::string& id) -> caf::result<product_record> {
      self->state.census.sample(self->mailbox().size());
      auto it = self->state.products.find(id);
      if (it != self->state.products.end())
        return it->second;
      auto promise = self->make_response_promise<product_record>();
      self->request(self->state.io.reader, caf::infinite, query_atom::value,
                    storage::product_get(id))
        .then(
          [=](const pg_rows& rows) mutable {
            if (rows.empty()) {
              promise.deliver(make_error(ec::reference_not_found,
                                         "product " + id + " does not exist",
                                         "{\"product_id\":" + json_quote(id) + "}"));
              return;
            }
            auto rec = storage::parse_product(rows.front());
            self->state.products[id] = rec;
            promise.deliver(rec);
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      status_record r;
      r.kind = "product-catalog";
      r.figures = {{"cached", static_cast<int64_t>(self->state.products.size())},
                   {"created", self->state.created}};
      return r;
    },
  };
}

}  // namespace adserver
