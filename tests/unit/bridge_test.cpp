// The HTTP-to-actor bridge keeps serving when a route's reply code throws:
// CAF ends the worker that ran it, and a new worker takes its slot.
#include "net/bridge.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

using namespace adserver;

TEST(Bridge, AJobThatThrowsDoesNotTakeLaterJobsWithIt) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  net::actor_bridge bridge{sys, 1};  // one worker: every job goes to it
  bridge.run([](caf::event_based_actor*) { throw std::runtime_error("a reply that throws"); });
  for (int i = 0; i < 1000 && bridge.restarts() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(bridge.restarts(), 1);
  for (int round = 0; round < 3; ++round) {
    auto done = std::make_shared<std::promise<void>>();
    auto ran = done->get_future();
    bridge.run([done](caf::event_based_actor*) { done->set_value(); });
    EXPECT_EQ(ran.wait_for(std::chrono::seconds(10)), std::future_status::ready) << round;
  }
  bridge.stop();
  EXPECT_EQ(bridge.restarts(), 1);  // a stop is not a death
}
