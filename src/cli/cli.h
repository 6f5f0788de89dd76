// The berth command: a client of berthd's Engine API with the docker CLI's commands, flags,
// output and exit codes.
#pragma once

namespace berth::cli {

// Runs one command line; returns the process exit status.
int run(int argc, char** argv);

}  // namespace berth::cli
