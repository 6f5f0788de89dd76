// The client library's HTTP framing against a tiny Beast server on a unix socket in a temp dir.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <thread>
#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it

#include "base/fs.h"
#include "client/client.h"
#include "support/temp_dir.h"

namespace berth::client {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using unix_socket = asio::local::stream_protocol;

// Serves `n` requests: /_ping answers with an API version; anything else echoes what it got
// (method, target, framing, body size) in a chunked response, or fails with a JSON error.
class FakeDaemon {
 public:
  explicit FakeDaemon(int n) {
    acceptor_.open();
    acceptor_.bind(unix_socket::endpoint(path_));
    acceptor_.listen();
    thread_ = std::thread([this, n] {
      for (int i = 0; i < n; ++i) serve(acceptor_.accept());
    });
  }
  ~FakeDaemon() { thread_.join(); }
  const std::string& path() const { return path_; }

 private:
  void serve(unix_socket::socket sock) {
    boost::beast::flat_buffer buf;
    http::request_parser<http::string_body> p;
    p.body_limit(std::numeric_limits<std::uint64_t>::max());  // boost::none trips Beast 1.74
    http::read(sock, buf, p);
    auto& req = p.get();
    if (req.target() == "/_ping") {
      http::response<http::string_body> res{http::status::ok, 11};
      res.set("Api-Version", "1.41");
      res.body() = "OK";
      res.prepare_payload();
      http::write(sock, res);
      return;
    }
    if (req.target().find("fail") != std::string::npos) {
      http::response<http::string_body> res{http::status::not_found, 11};
      res.body() = R"({"message":"No such image: foo:latest"})";
      res.prepare_payload();
      http::write(sock, res);
      return;
    }
    http::response<http::string_body> res{http::status::ok, 11};
    res.chunked(true);
    res.body() = std::string(req.method_string()) + " " + std::string(req.target()) + " " +
                 (req.chunked() ? "chunked" : "length") + " " + std::to_string(req.body().size()) +
                 " " + std::string(300000, 'x');
    http::write(sock, res);
  }

  test::TempDir dir_{"cli-test"};
  std::string path_ = dir_ / "d.sock";
  asio::io_context ioc_;
  unix_socket::acceptor acceptor_{ioc_};
  std::thread thread_;
};

TEST(CliHttp, StreamsFileBodyWithLengthAndPipeBodyChunked) {
  FakeDaemon d(2);
  std::string file = "/tmp/berth-cli-body-" + std::to_string(::getpid());
  write_file(file, std::string(1 << 20, 'a'), O_CREAT | O_TRUNC | O_WRONLY);
  UniqueFd f = open_or_throw(file, O_RDONLY);
  HttpRequest req;
  req.method = "POST";
  req.target = "/v1.41/images/load";
  req.body_fd = f.get();
  req.body_size = 1 << 20;
  uint64_t sent = 0;
  req.on_sent = [&](uint64_t n) { sent = n; };
  std::string body;
  HttpResponse r = http_send(
      d.path(), req, [](const HttpResponse&) {}, [&](std::string_view s) { body.append(s); });
  ::unlink(file.c_str());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(sent, 1u << 20);
  EXPECT_EQ(body.substr(0, 40), "POST /v1.41/images/load length 1048576 x");
  EXPECT_EQ(body.size(), 38 + 1 + 300000u);

  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd rd(p[0]);
  std::thread writer([w = p[1]] {
    write_all(w, std::string(700000, 'b'));
    ::close(w);
  });
  req.body_fd = rd.get();
  req.body_size = -1;
  body.clear();
  http_send(
      d.path(), req, [](const HttpResponse&) {}, [&](std::string_view s) { body.append(s); });
  writer.join();
  EXPECT_EQ(body.substr(0, 38), "POST /v1.41/images/load chunked 700000");
}

TEST(CliHttp, NegotiatesVersionAndReportsDaemonErrors) {
  FakeDaemon d(3);
  ApiClient api("unix://" + d.path());
  EXPECT_EQ(api.version(), "1.41");
  std::string body;
  api.stream({}, "/images/json", Query().add("all", "1"),
             [&](std::string_view s) { body.append(s); });
  EXPECT_EQ(body.substr(0, 35), "GET /v1.41/images/json?all=1 length");
  try {
    api.call("GET", "/images/fail/json");
    FAIL() << "expected an error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_STREQ(e.what(), "Error response from daemon: No such image: foo:latest");
  }
}

TEST(CliHttp, SplitsJsonStreamsWhateverTheChunks) {
  std::vector<nlohmann::json> got;
  JsonSplitter splitter([&](const nlohmann::json& j) { got.push_back(j); });
  // Braces and escaped quotes inside strings must not end a value early.
  std::string stream = "{\"status\":\"a}\\\"\"}\r\n{\"x\":[1,{\"y\":2}]}\n";
  for (char c : stream) splitter.feed(std::string_view(&c, 1));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["status"], "a}\"");
  EXPECT_EQ(got[1]["x"][1]["y"], 2);
}

TEST(CliHttp, MissingSocketIsACleanConnectError) {
  ApiClient api("unix:///nonexistent/berth.sock");
  try {
    api.version();
    FAIL() << "expected an error";
  } catch (const ConnectError& e) {
    EXPECT_STREQ(e.what(),
                 "Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the "
                 "berth daemon running?");
  }
}

}  // namespace
}  // namespace berth::client
