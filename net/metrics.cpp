#include "net/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace adserver::net {

namespace {

std::string number(double x) {
  if (std::isinf(x))
    return x > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

}  // namespace

std::string escape_label(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

const std::vector<double>& metrics_registry::latency_buckets() {
  static const std::vector<double> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return bounds;
}

void metrics_registry::observe_request(const std::string& route, const std::string& method,
                                       int status, double seconds) {
  auto& bounds = latency_buckets();
  size_t bucket = bounds.size();  // +Inf only
  for (size_t i = 0; i < bounds.size(); ++i)
    if (seconds <= bounds[i]) {
      bucket = i;
      break;
    }
  std::lock_guard<std::mutex> guard{mtx_};
  auto& s = requests_[{route.empty() ? "unmatched" : route, method, status}];
  if (s.buckets.empty())
    s.buckets.assign(bounds.size() + 1, 0);
  ++s.count;
  s.sum += seconds;
  ++s.buckets[bucket];
}

void metrics_registry::add_gauge(std::string name, std::string help,
                                 std::function<double()> read) {
  std::lock_guard<std::mutex> guard{mtx_};
  read_metrics_.push_back({std::move(name), std::move(help), "gauge", std::move(read)});
}

void metrics_registry::add_counter(std::string name, std::string help,
                                   std::function<double()> read) {
  std::lock_guard<std::mutex> guard{mtx_};
  read_metrics_.push_back({std::move(name), std::move(help), "counter", std::move(read)});
}

std::string metrics_registry::render() const {
  std::map<std::tuple<std::string, std::string, int>, request_series> requests;
  std::vector<read_metric> reads;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    requests = requests_;
    reads = read_metrics_;
  }
  std::string out;
  out += "# HELP adserver_http_requests_total HTTP requests answered, by route pattern, method "
         "and status.\n# TYPE adserver_http_requests_total counter\n";
  for (auto& [key, s] : requests)
    out += "adserver_http_requests_total{route=\"" + escape_label(std::get<0>(key))
           + "\",method=\"" + escape_label(std::get<1>(key)) + "\",status=\""
           + std::to_string(std::get<2>(key)) + "\"} " + std::to_string(s.count) + "\n";
  out += "# HELP adserver_http_request_duration_seconds Time from reading a request to handing "
         "its answer to the connection.\n# TYPE adserver_http_request_duration_seconds "
         "histogram\n";
  // Histograms per route and method (all statuses together).
  std::map<std::pair<std::string, std::string>, request_series> by_route;
  for (auto& [key, s] : requests) {
    auto& r = by_route[{std::get<0>(key), std::get<1>(key)}];
    if (r.buckets.empty())
      r.buckets.assign(s.buckets.size(), 0);
    r.count += s.count;
    r.sum += s.sum;
    for (size_t i = 0; i < s.buckets.size(); ++i)
      r.buckets[i] += s.buckets[i];
  }
  auto& bounds = latency_buckets();
  for (auto& [key, s] : by_route) {
    auto labels = "route=\"" + escape_label(key.first) + "\",method=\"" + escape_label(key.second)
                  + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += s.buckets[i];
      char le[32];
      std::snprintf(le, sizeof le, "%g", bounds[i]);
      out += "adserver_http_request_duration_seconds_bucket{" + labels + ",le=\"" + le + "\"} "
             + std::to_string(cumulative) + "\n";
    }
    out += "adserver_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} "
           + std::to_string(s.count) + "\n";
    out += "adserver_http_request_duration_seconds_sum{" + labels + "} " + number(s.sum) + "\n";
    out += "adserver_http_request_duration_seconds_count{" + labels + "} "
           + std::to_string(s.count) + "\n";
  }
  for (auto& m : reads)
    out += "# HELP " + m.name + " " + m.help + "\n# TYPE " + m.name + " " + m.type + "\n" + m.name
           + " " + number(m.read()) + "\n";
  return out;
}

}  // namespace adserver::net
