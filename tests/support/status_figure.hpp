#pragma once
// One figure of an actor's answer to the shared `status` request, for tests
// that wait on an actor's progress without knowing its insides.
#include "protocol/interfaces.hpp"
#include "protocol/records.hpp"

#include <caf/scoped_actor.hpp>

#include <cstdint>
#include <string>

namespace adserver::testing {

/// The figure `name` of `actor`'s status record (any actor kind: every
/// interface extends status_client_actor); -1 when it has none.
inline int64_t status_figure(caf::scoped_actor& self, const status_client_actor& actor,
                             const std::string& name) {
  int64_t out = -1;
  self->request(actor, caf::infinite, status_atom::value)
    .receive(
      [&](const status_record& r) {
        for (auto& [k, v] : r.figures)
          if (k == name)
            out = v;
      },
      [](const caf::error&) {});
  return out;
}

}  // namespace adserver::testing
