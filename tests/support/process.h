// Running a helper program from a test (iproute2, nft, the berth binaries) and capturing
// what it printed.
#pragma once

#include <string>
#include <vector>

namespace berth::test {

struct Result {
  int status = -1;  // exit code, or 128+signal
  std::string out, err;
};

// Runs a program with arguments (found on PATH) and optional stdin; captures its output.
Result run_program(const std::vector<std::string>& argv, const std::string& input = "");
// The same for a shell command line.
Result run_shell(const std::string& command);

}  // namespace berth::test
