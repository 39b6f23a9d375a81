#include "net/metrics.hpp"

#include <algorithm>
#include <chrono>
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

/// Upper bounds (seconds) of the per-second histograms behind the realtime
/// percentiles: 64 log-spaced steps from 50 us to about 20 s (each step is
/// 22 % wider, so a percentile is exact to within that).
const std::vector<double>& fine_bounds() {
  static const std::vector<double> bounds = [] {
    std::vector<double> b;
    double x = 50e-6;
    for (int i = 0; i < 64; ++i, x *= 1.22)
      b.push_back(x);
    return b;
  }();
  return bounds;
}

int64_t now_second() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// The bound under which fraction q of the counted requests fall.
double percentile(const std::vector<uint64_t>& hist, uint64_t total, double q) {
  if (total == 0)
    return 0;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  uint64_t seen = 0;
  auto& bounds = fine_bounds();
  for (size_t i = 0; i < hist.size(); ++i) {
    seen += hist[i];
    if (seen >= rank)
      return i < bounds.size() ? bounds[i] : bounds.back();
  }
  return bounds.back();
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
  auto& fine = fine_bounds();
  auto fine_bucket = static_cast<size_t>(
    std::lower_bound(fine.begin(), fine.end(), seconds) - fine.begin());
  auto& ring = recent_[{route.empty() ? "unmatched" : route, method}];
  if (ring.empty())
    ring.resize(window_seconds);
  auto sec = now_second();
  auto& slot = ring[static_cast<size_t>(sec % window_seconds)];
  if (slot.second != sec) {
    slot.second = sec;
    slot.count = 0;
    slot.errors = 0;
    slot.hist.assign(fine.size() + 1, 0);
  }
  ++slot.count;
  if (status >= 500)
    ++slot.errors;
  ++slot.hist[fine_bucket];
}

std::vector<metrics_registry::route_window> metrics_registry::last_minute() const {
  std::vector<route_window> out;
  auto sec = now_second();
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [key, ring] : recent_) {
    route_window w;
    w.route = key.first;
    w.method = key.second;
    std::vector<uint64_t> hist(fine_bounds().size() + 1, 0);
    for (auto& slot : ring) {
      if (slot.second < 0 || sec - slot.second >= window_seconds)
        continue;
      w.count += slot.count;
      w.errors += slot.errors;
      for (size_t i = 0; i < slot.hist.size(); ++i)
        hist[i] += slot.hist[i];
    }
    if (w.count == 0)
      continue;
    w.p50 = percentile(hist, w.count, 0.50);
    w.p95 = percentile(hist, w.count, 0.95);
    w.p99 = percentile(hist, w.count, 0.99);
    out.push_back(std::move(w));
  }
  return out;
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

void metrics_registry::add_family(std::string name, std::string help, std::string type,
                                  std::function<std::vector<sample>()> read) {
  std::lock_guard<std::mutex> guard{mtx_};
  families_.push_back({std::move(name), std::move(help), std::move(type), std::move(read)});
}

std::string metrics_registry::render() const {
  std::map<std::tuple<std::string, std::string, int>, request_series> requests;
  std::vector<read_metric> reads;
  std::vector<family> families;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    requests = requests_;
    reads = read_metrics_;
    families = families_;
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
  for (auto& f : families) {
    out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
    for (auto& x : f.read())
      out += f.name + x.suffix + (x.labels.empty() ? "" : "{" + x.labels + "}") + " "
             + number(x.value) + "\n";
  }
  return out;
}

}  // namespace adserver::net
