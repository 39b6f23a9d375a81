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

  /// The whole exposition.
  std::string render() const;

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
  mutable std::mutex mtx_;
  // (route, method, status) -> series
  std::map<std::tuple<std::string, std::string, int>, request_series> requests_;
  std::vector<read_metric> read_metrics_;
};

/// A label value escaped for the exposition format.
std::string escape_label(const std::string& value);

}  // namespace adserver::net
