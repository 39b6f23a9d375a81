#include "actors/experiments.hpp"

#include "actors/deadline.hpp"
#include "actors/errors.hpp"
#include "actors/validation.hpp"
#include "storage/statements.hpp"

#include <caf/send.hpp>
#include <caf/typed_response_promise.hpp>

namespace adserver {

namespace {

void mappings_changed(experiments_state& st) {
  for (auto& shard : st.session_shards)
    caf::anon_send(shard, reload_atom::value);
  // Sessions another node owns are finished there: its shards re-read too.
  if (st.cluster)
    for (auto& [node, gateway] : st.cluster->peers())
      caf::anon_send(gateway, peer_atom::value, reload_atom::value);
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
            mappings_changed(self->state);
            promise.deliver(storage::parse_experiment(res[0][0]));
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
            mappings_changed(self->state);
            promise.deliver(storage::parse_experiment(res[0][0]));
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
