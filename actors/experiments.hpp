#pragma once
// Experiment mappings (seed 000 step 4): which experiment product code stands
// for an original product under exp_key/exp_var between two dates.
#include "actors/cluster_view.hpp"
#include "actors/io_handles.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace adserver {

struct experiments_state {
  io_handles io;
  /// Told when mappings change, so served codes follow at once.
  std::vector<session_experiment_actor> session_shards;
  /// The peers told as well (null: no cluster).
  std::shared_ptr<const cluster_view> cluster;
  int64_t created = 0;
  int64_t deleted = 0;
  census_entry census{actor_kind::experiments};
  static inline const char* name = "experiments";
};

experiments_actor::behavior_type
experiments(experiments_actor::stateful_pointer<experiments_state> self, io_handles io,
            std::vector<session_experiment_actor> session_shards,
            std::shared_ptr<const cluster_view> cluster);

}  // namespace adserver
