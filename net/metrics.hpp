#pragma once
// Prometheus text exposition (version 0.0.4) of what the HTTP layer sees and
// of gauges other parts register. Recording is a short critical section per
// request; scraping is O(series), never a database query.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace adserver::net {

class metrics_registry {
public:
  /// Upper bounds (seconds) of the request latency histogram.
  static const std::vector<double>& latency_buckets();

  /// One answered request: its route pattern ("" when none matched), method,
  /// status and latency in seconds.
  void observe_request(const std::string& route, const std::string& method, int status,
                       double seconds);

  /// A gauge read at scrape time (must be cheap and thread-safe).
  void add_gauge(std::string name, std::string help, std::function<double()> read);
  /// A counter read at scrape time (monotonic).
  void add_counter(std::string name, std::string help, std::function<double()> read);

  /// One sample of a family: the name's suffix ("", "_bucket", ...), its
  /// labels without braces ("kind=\"auction\"", or empty) and value.
  struct sample {
    std::string suffix;
    std::string labels;
    double value = 0;
  };
  /// A family of labelled samples read at scrape time ("gauge", "counter" or
  /// "histogram"); `read` must be cheap, O(label values), and thread-safe.
  void add_family(std::string name, std::string help, std::string type,
                  std::function<std::vector<sample>()> read);

  /// The whole exposition.
  std::string render() const;

  /// One route's requests over the last `window_seconds`.
  struct route_window {
    std::string route;
    std::string method;
    uint64_t count = 0;
    uint64_t errors = 0;  // status >= 500
    double p50 = 0, p95 = 0, p99 = 0;  // seconds (bucket upper bounds; 0 when no requests)
  };
  static constexpr int window_seconds = 60;
  /// Every route with requests in the last minute (for the realtime view).
  std::vector<route_window> last_minute() const;

private:
  struct request_series {
    uint64_t count = 0;
    double sum = 0;
    std::vector<uint64_t> buckets;  // cumulative at render time, per bound here
  };
  struct read_metric {
    std::string name;
    std::string help;
    std::string type;
    std::function<double()> read;
  };
  struct family {
    std::string name;
    std::string help;
    std::string type;
    std::function<std::vector<sample>()> read;
  };
  /// One second of a route's requests, with a fine latency histogram for
  /// percentiles (log-spaced bounds, fine_bounds()).
  struct second_slot {
    int64_t second = -1;
    uint32_t count = 0;
    uint32_t errors = 0;
    std::vector<uint32_t> hist;
  };
  using minute_ring = std::vector<second_slot>;  // window_seconds slots
  mutable std::mutex mtx_;
  std::map<std::pair<std::string, std::string>, minute_ring> recent_;
  std::vector<family> families_;
  // (route, method, status) -> series
  std::map<std::tuple<std::string, std::string, int>, request_series> requests_;
  std::vector<read_metric> read_metrics_;
};

/// A label value escaped for the exposition format.
std::string escape_label(const std::string& value);

}  // namespace adserver::net
