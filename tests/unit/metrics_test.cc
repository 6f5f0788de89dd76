// The Prometheus text berthd serves: escaping, histograms, request counts by route, and the
// metrics-addr forms.
#include <gtest/gtest.h>

#include "api/metrics_server.h"
#include "base/error.h"
#include "engine/metrics_text.h"

namespace berth {
namespace {

TEST(MetricsText, FamiliesAndEscapedLabels) {
  engine::MetricsText t;
  t.family("x_total", "counter", "a help\nline");
  t.sample("x_total", {{"name", "a\"b\\c\nd"}, {"id", "1"}}, 3);
  t.sample("x_total", {}, 0.25);
  EXPECT_EQ(t.text(),
            "# HELP x_total a help\\nline\n# TYPE x_total counter\n"
            "x_total{name=\"a\\\"b\\\\c\\nd\",id=\"1\"} 3\nx_total 0.25\n");
}

TEST(MetricsText, HistogramBucketsAreCumulative) {
  engine::Histogram h;
  h.observe(0.003);
  h.observe(0.2);
  h.observe(30);
  engine::MetricsText t;
  h.write(t, "d", {{"route", "/x"}});
  const auto& s = t.text();
  EXPECT_NE(s.find("d_bucket{route=\"/x\",le=\"0.005\"} 1\n"), std::string::npos) << s;
  EXPECT_NE(s.find("d_bucket{route=\"/x\",le=\"0.1\"} 1\n"), std::string::npos) << s;
  EXPECT_NE(s.find("d_bucket{route=\"/x\",le=\"0.25\"} 2\n"), std::string::npos) << s;
  EXPECT_NE(s.find("d_bucket{route=\"/x\",le=\"10\"} 2\n"), std::string::npos) << s;
  EXPECT_NE(s.find("d_bucket{route=\"/x\",le=\"+Inf\"} 3\n"), std::string::npos) << s;
  EXPECT_NE(s.find("d_sum{route=\"/x\"} 30.203\n"), std::string::npos) << s;
  EXPECT_NE(s.find("d_count{route=\"/x\"} 3\n"), std::string::npos) << s;
}

TEST(RequestMetrics, CountsByRouteAndUnmatchedAsOne) {
  api::RequestMetrics m;
  m.observe("GET", "/containers/{name}/json", 200, 0.001);
  m.observe("GET", "/containers/{name}/json", 404, 0.001);
  m.observe("GET", "", 404, 0.001);
  m.observe("GET", "", 404, 0.001);
  m.observe("POST", "/build", 200, 2);
  engine::MetricsText t;
  m.write(t);
  const auto& s = t.text();
  EXPECT_NE(s.find("berth_api_requests_total{method=\"GET\",route=\"/containers/{name}/json\","
                   "code=\"404\"} 1\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("berth_api_requests_total{method=\"GET\",route=\"unmatched\",code=\"404\"} 2\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("builder_builds_triggered_total 1\n"), std::string::npos) << s;
}

TEST(MetricsAddr, LoopbackUnlessAHostIsGiven) {
  using P = std::pair<std::string, unsigned short>;
  EXPECT_EQ(api::parse_metrics_addr(":9323"), P("127.0.0.1", 9323));
  EXPECT_EQ(api::parse_metrics_addr("9323"), P("127.0.0.1", 9323));
  EXPECT_EQ(api::parse_metrics_addr("0.0.0.0:9323"), P("0.0.0.0", 9323));
  EXPECT_EQ(api::parse_metrics_addr("[::1]:9323"), P("::1", 9323));
  EXPECT_EQ(api::parse_metrics_addr("localhost:9323"), P("127.0.0.1", 9323));
  EXPECT_THROW(api::parse_metrics_addr("metrics.example:9323"), Error);
  EXPECT_THROW(api::parse_metrics_addr("127.0.0.1:99999"), Error);
  EXPECT_THROW(api::parse_metrics_addr("127.0.0.1"), Error);
}

}  // namespace
}  // namespace berth
