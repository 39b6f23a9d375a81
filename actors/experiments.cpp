#include "actors/experiments.hpp"

#include "actors/deadline.hpp"
#include "actors/validation.hpp"
#include "protocol/errors.hpp"
#include "storage/statements.hpp"

#include <caf/send.hpp>
#include <caf/typed_response_promise.hpp>

namespace adserver {

namespace {

using self_ptr = experiments_actor::stateful_pointer<experiments_state>;

/// Tells this node's shards and every peer's that the mappings changed, and
/// answers with `out` once the peers have told theirs (at most
/// change_ack_timeout): every node swaps codes alike, so the client's next ad
/// request on any node sees the change.
void mappings_changed(self_ptr self, caf::typed_response_promise<experiment_mapping> promise,
                      experiment_mapping out, const deadline& due) {
  auto& st = self->state;
  for (auto& shard : st.session_shards)
    self->send(shard, reload_atom::value);
  auto peers = st.cluster ? st.cluster->peer_gateways() : std::vector<node_gateway_actor>{};
  ask_all_then_before(self, peers, due, change_ack_timeout,
                      [promise, out]() mutable { promise.deliver(out); }, peer_atom::value,
                      reload_atom::value);
}

}  // namespace

experiments_actor::behavior_type
experiments(experiments_actor::stateful_pointer<experiments_state> self, io_handles io,
            std::vector<session_experiment_actor> session_shards,
            std::shared_ptr<const cluster_view> cluster) {
  self->state.io = std::move(io);
  self->state.session_shards = std::move(session_shards);
  self->state.cluster = std::move(cluster);
  return {
    [=](create_atom, experiment_mapping& m,
        request_meta& meta) -> caf::result<experiment_mapping> {
      if (passed(meta.due))
        return deadline_passed();
      if (auto err = validate(m))
        return err;
      auto promise = self->make_response_promise<experiment_mapping>();
      self->request(self->state.io.writer, caf::infinite, write_atom::value,
                    std::vector<pg_statement>{storage::experiment_create(m, meta.who)},
                    meta.due, idempotency_ticket{})
        .then(
          [=](const pg_results& res) mutable {
            if (res.empty() || res[0].empty()) {
              promise.deliver(make_error(ec::internal, "mapping not stored"));
              return;
            }
            ++self->state.created;
            mappings_changed(self, promise, storage::parse_experiment(res[0][0]), meta.due);
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](list_atom, const std::string& exp_key) -> caf::result<experiment_mappings> {
      self->state.census.sample(self->mailbox().size());
      auto promise = self->make_response_promise<experiment_mappings>();
      self->request(self->state.io.reader, caf::infinite, query_atom::value,
                    storage::experiment_list(exp_key))
        .then(
          [=](const pg_rows& rows) mutable {
            experiment_mappings out;
            for (auto& r : rows)
              out.push_back(storage::parse_experiment(r));
            promise.deliver(out);
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](delete_atom, int64_t id, request_meta& meta) -> caf::result<experiment_mapping> {
      if (passed(meta.due))
        return deadline_passed();
      auto promise = self->make_response_promise<experiment_mapping>();
      self->request(self->state.io.writer, caf::infinite, write_atom::value,
                    std::vector<pg_statement>{storage::experiment_deactivate(id, meta.who)},
                    meta.due, idempotency_ticket{})
        .then(
          [=](const pg_results& res) mutable {
            if (res.empty() || res[0].empty()) {
              promise.deliver(make_error(ec::reference_not_found,
                                         "experiment mapping " + std::to_string(id)
                                           + " does not exist",
                                         "{\"id\":" + std::to_string(id) + "}"));
              return;
            }
            ++self->state.deleted;
            mappings_changed(self, promise, storage::parse_experiment(res[0][0]), meta.due);
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      status_record r;
      r.kind = "experiments";
      r.figures = {{"created", self->state.created}, {"deleted", self->state.deleted}};
      return r;
    },
  };
}

}  // namespace adserver
