// The command lines that drive an OCI runtime binary, and the messages of its failures,
// against a fake runtime (a shell script) that records how it was called.
#include "runtime/oci_runtime.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "support/temp_dir.h"

namespace berth::runtime {
namespace {

// Appends its arguments to calls.txt, writes 4242 to a --pid-file, copies a --process file,
// prints two pids for `ps`, and fails `start` the way runc does: an error in its JSON log.
constexpr const char* kFake = R"(#!/bin/sh
dir=$(dirname "$0")
echo "$*" >>"$dir/calls.txt"
prev=
for a in "$@"; do
  case $prev in
    --log) log=$a ;;
    --pid-file) echo 4242 >"$a" ;;
    --process) cp "$a" "$dir/process.json" ;;
  esac
  prev=$a
done
case " $* " in
  *" ps "*) echo '[7, 8]' ;;
  *" start "*)
    echo '{"level":"warning","msg":"not this"}' >>"$log"
    echo '{"level":"error","msg":"container \"c1\" does not exist"}' >>"$log"
    exit 1 ;;
  *" pause "*) exit 3 ;;
esac
)";

class OciRuntimeBinary : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file_atomic(path_join(dir_, "fake-runc"), kFake, 0755, Durability::kCrashSafe);
    rt_ = open_runtime({path_join(dir_, "fake-runc"), {"--systemd-cgroup"}, dir_ + "/root", dir_});
  }

  // The calls recorded since the last look, without the global options.
  std::vector<std::string> calls() {
    std::vector<std::string> out;
    std::string prefix = "--systemd-cgroup --root " + dir_ + "/root --log ";
    for (auto& line : split(read_file_if_exists(path_join(dir_, "calls.txt")).value_or(""), '\n')) {
      if (line.empty()) continue;
      EXPECT_EQ(line.rfind(prefix, 0), 0u) << line;
      // Past the log's path: "--log-format json <command...>".
      auto at = line.find(" --log-format json ");
      out.push_back(at == std::string::npos ? line : line.substr(at + 19));
    }
    ::unlink(path_join(dir_, "calls.txt").c_str());
    return out;
  }

  test::TempDir tmp_{"oci-runtime"};
  std::string dir_ = tmp_.path();
  std::unique_ptr<OciRuntime> rt_;
};

TEST_F(OciRuntimeBinary, CreateReadsThePidFile) {
  CreateOptions o;
  o.bundle = "/b";
  o.console_socket = "/s.sock";
  EXPECT_EQ(rt_->create("c1", o), 4242);
  auto c = calls();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0], "create --bundle /b --pid-file " + dir_ + "/runtime-init.pid" +
                      " --console-socket /s.sock c1");
  EXPECT_FALSE(path_exists(dir_ + "/runtime-init.pid"));
}

TEST_F(OciRuntimeBinary, LongConsoleSocketPathsGoThroughALink) {
  CreateOptions o;
  o.bundle = "/b";
  o.console_socket = "/" + std::string(120, 'x') + "/console.sock";
  rt_->create("c1", o);
  auto c = calls();
  ASSERT_EQ(c.size(), 1u);
  auto at = c[0].find("--console-socket /tmp/berth-console-");
  ASSERT_NE(at, std::string::npos) << c[0];
  std::string link = c[0].substr(at + 17, c[0].find(' ', at + 17) - at - 17);
  EXPECT_LT(link.size(), 108u);
  EXPECT_FALSE(path_exists(link.substr(0, link.rfind('/'))));  // removed after the command
}

TEST_F(OciRuntimeBinary, Operations) {
  rt_->kill("c1", 15, false);
  rt_->kill("c1", 9, true);
  rt_->remove("c1", true);
  rt_->remove("c1", false);
  rt_->resume("c1");
  EXPECT_EQ(rt_->pids("c1"), (std::vector<pid_t>{7, 8}));
  EXPECT_EQ(calls(), (std::vector<std::string>{"kill c1 15", "kill --all c1 9", "delete --force c1",
                                               "delete c1", "resume c1", "ps --format json c1"}));
}

TEST_F(OciRuntimeBinary, ExecHandsTheProcessAsItCame) {
  ExecOptions o;
  o.detach = true;
  o.pid_file = dir_ + "/exec.pid";
  nlohmann::json process = {{"args", {"sh"}}, {"cwd", "/"}, {"x-unknown", 1}};
  rt_->exec("c1", o, process);
  EXPECT_EQ(calls(), std::vector<std::string>{"exec --process " + dir_ +
                                              "/runtime-exec-process.json --pid-file " + dir_ +
                                              "/exec.pid --detach c1"});
  EXPECT_EQ(nlohmann::json::parse(read_file(dir_ + "/process.json")), process);
  EXPECT_EQ(trim(read_file(o.pid_file)), "4242");
  EXPECT_FALSE(path_exists(dir_ + "/runtime-exec-process.json"));
  o.detach = false;
  EXPECT_THROW(rt_->exec("c1", o, process), InvalidArgument);
}

TEST_F(OciRuntimeBinary, FailuresCarryTheRuntimesMessage) {
  try {
    rt_->start("c1");
    FAIL() << "start did not fail";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "OCI runtime start failed: container \"c1\" does not exist");
  }
  try {
    rt_->pause("c1");
    FAIL() << "pause did not fail";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "OCI runtime pause failed: " + dir_ + "/fake-runc pause exited with status 3");
  }
  // The logs of finished commands do not pile up.
  for (auto& name : list_dir(dir_)) EXPECT_EQ(name.find("-log.json"), std::string::npos) << name;
}

TEST_F(OciRuntimeBinary, MissingBinary) {
  auto rt = open_runtime({dir_ + "/nosuch", {}, dir_ + "/root", dir_});
  EXPECT_THROW(rt->start("c1"), Error);
}

}  // namespace
}  // namespace berth::runtime
