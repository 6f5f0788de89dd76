#include "engine/metrics_text.h"

#include <cmath>
#include <cstdio>

namespace berth::engine {

namespace {

// Label values escape backslash, double quote and newline; HELP text backslash and newline.
std::string escape(const std::string& s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quote)
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  // Integers as integers (byte counts above 2^53 lose nothing they had as doubles).
  if (v == std::floor(v) && std::fabs(v) < 1e18) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void MetricsText::family(const std::string& name, const char* type, const std::string& help) {
  out_ += "# HELP " + name + " " + escape(help, false) + "\n# TYPE " + name + " " + type + "\n";
}

void MetricsText::sample(const std::string& name, const MetricLabels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); i++)
      out_ += (i ? "," : "") + labels[i].first + "=\"" + escape(labels[i].second, true) + "\"";
    out_ += '}';
  }
  out_ += " " + number(value) + "\n";
}

void Histogram::observe(double seconds) {
  for (size_t i = 0; i < kBounds.size(); i++)
    if (seconds <= kBounds[i]) buckets_[i]++;
  count_++;
  sum_ += seconds;
}

void Histogram::write(MetricsText& out, const std::string& name, const MetricLabels& labels) const {
  auto with_le = [&](const std::string& le) {
    MetricLabels l = labels;
    l.emplace_back("le", le);
    return l;
  };
  for (size_t i = 0; i < kBounds.size(); i++)
    out.sample(name + "_bucket", with_le(number(kBounds[i])), static_cast<double>(buckets_[i]));
  out.sample(name + "_bucket", with_le("+Inf"), static_cast<double>(count_));
  out.sample(name + "_sum", labels, sum_);
  out.sample(name + "_count", labels, static_cast<double>(count_));
}

}  // namespace berth::engine
