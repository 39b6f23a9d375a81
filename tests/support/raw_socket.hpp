#pragma once
// Plain TCP to the test server, for what an HTTP client library would not
// send (malformed requests, half-open connections, raw streams).
#include <string>

namespace adserver::testing {

/// A connection to 127.0.0.1:port; -1 when it cannot connect.
int connect_loopback(int port);

/// Sends `request` (nothing when empty) and returns what comes back: waits
/// up to `ms` for the first bytes, then 200 ms between chunks, until the
/// server closes ("" = closed without an answer).
std::string exchange(int fd, const std::string& request, int ms = 2000);

}  // namespace adserver::testing
