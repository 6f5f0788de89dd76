// The shim protocol's typed requests and answers: what one side encodes the other decodes to
// the same values, and a malformed request is refused naming what is wrong.
#include <gtest/gtest.h>

#include "base/error.h"
#include "shim/protocol.h"

namespace berth::shim {
namespace {

using nlohmann::json;

Request round_trip(const Request& r) {
  return decode_request(json::parse(encode(r)));
}

TEST(ShimProtocol, EveryRequestSurvivesTheWire) {
  EXPECT_TRUE(std::holds_alternative<StartRequest>(round_trip(StartRequest{})));
  EXPECT_TRUE(std::holds_alternative<WaitRequest>(round_trip(WaitRequest{})));
  EXPECT_TRUE(std::holds_alternative<StateRequest>(round_trip(StateRequest{})));

  auto a = std::get<AttachRequest>(round_trip(AttachRequest{true, false, true, "ctrl-x,y"}));
  EXPECT_TRUE(a.stdin);
  EXPECT_FALSE(a.stdout);
  EXPECT_TRUE(a.stderr);
  EXPECT_EQ(a.detach_keys, "ctrl-x,y");

  auto r = std::get<ResizeRequest>(round_trip(ResizeRequest{33, 101}));
  EXPECT_EQ(r.height, 33u);
  EXPECT_EQ(r.width, 101u);

  auto k = std::get<KillRequest>(round_trip(KillRequest{15, true}));
  EXPECT_EQ(k.signal, 15);
  EXPECT_TRUE(k.all);

  ExecRequest x;
  x.exec_id = "e1";
  x.process.args = {"sh", "-c", "true"};
  x.process.cwd = "/w";
  x.process.env = {"A=1"};
  x.process.terminal = true;
  x.stdout = true;
  x.detach_keys = "q";
  auto y = std::get<ExecRequest>(round_trip(x));
  EXPECT_EQ(y.exec_id, "e1");
  EXPECT_EQ(y.process.args, x.process.args);
  EXPECT_EQ(y.process.cwd, "/w");
  EXPECT_EQ(y.process.env, x.process.env);
  EXPECT_TRUE(y.process.terminal);
  EXPECT_TRUE(y.stdout);
  EXPECT_FALSE(y.stdin);
  EXPECT_EQ(y.detach_keys, "q");
  EXPECT_FALSE(y.raw.has_value());  // unset: the shim decides by the terminal
  x.raw = false;
  EXPECT_EQ(std::get<ExecRequest>(round_trip(x)).raw, std::optional<bool>(false));

  EXPECT_EQ(std::get<ExecWaitRequest>(round_trip(ExecWaitRequest{"e2"})).exec_id, "e2");
  auto xr = std::get<ExecResizeRequest>(round_trip(ExecResizeRequest{"e3", 10, 20}));
  EXPECT_EQ(xr.exec_id, "e3");
  EXPECT_EQ(xr.height, 10u);
  EXPECT_EQ(xr.width, 20u);
}

TEST(ShimProtocol, AMalformedRequestNamesWhatIsWrong) {
  auto refused = [](const char* text) {
    try {
      decode_request(json::parse(text));
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(refused(R"({"op":"fly"})"), "unknown op: fly");
  EXPECT_EQ(refused(R"({"signal":9})"), "shim request: op is missing");
  EXPECT_EQ(refused(R"({"op":"kill"})"), "shim request: signal is missing");
  EXPECT_EQ(refused(R"({"op":"kill","signal":"TERM"})"), "shim request: signal has the wrong type");
  EXPECT_EQ(refused(R"({"op":"exec_wait"})"), "shim request: exec_id is missing");
  EXPECT_EQ(refused(R"([1])"), "shim request: not a JSON object");
}

TEST(ShimProtocol, ExitStatusAndAnswers) {
  ExitStatus e{137, "2026-12-07T10:00:00Z", true, 2};
  auto back = exit_of(exit_reply(e));
  EXPECT_EQ(back.code, 137);
  EXPECT_EQ(back.finished_at, e.finished_at);
  EXPECT_TRUE(back.oom_killed);
  EXPECT_EQ(back.oom_kills, 2u);
  // exit.json of a shim from before oom_kills: a kill counts as one.
  auto old = ExitStatus::from_json(json::parse(R"({"code":1,"oom_killed":true})"));
  EXPECT_EQ(old.oom_kills, 1u);
  EXPECT_EQ(old.finished_at, "");
  EXPECT_EQ(started_of(started_reply({42})).pid, 42);
  auto st = state_of(state_reply({7, true}));
  EXPECT_EQ(st.pid, 7);
  EXPECT_TRUE(st.running);
  EXPECT_EQ(exec_exit_of(exec_exit_reply(3)), 3);
}

}  // namespace
}  // namespace berth::shim
