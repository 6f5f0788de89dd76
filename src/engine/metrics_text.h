// Writing Prometheus's text exposition format (version 0.0.4): families with their HELP and
// TYPE lines, samples with escaped label values, and a histogram with Prometheus's default
// buckets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace berth::engine {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsText {
 public:
  // Starts a family; its samples must follow before the next one starts.
  void family(const std::string& name, const char* type, const std::string& help);
  void sample(const std::string& name, const MetricLabels& labels, double value);
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// A latency histogram: counts per upper bound (le), their sum and their count.
class Histogram {
 public:
  static constexpr std::array<double, 11> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10};
  void observe(double seconds);
  // The _bucket (cumulative, with le="+Inf"), _sum and _count samples of family `name`.
  void write(MetricsText& out, const std::string& name, const MetricLabels& labels) const;

 private:
  std::array<uint64_t, kBounds.size()> buckets_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace berth::engine
