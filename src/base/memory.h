// Long-lived processes that mostly sleep (berthd, each shim) hand back the memory their
// start-up needed, and berthd what its work needed whenever it goes idle: code pages are clean
// copies of files, so dropping them from the resident set loses nothing (they come back from the
// page cache if used).
#pragma once

namespace berth {

// Returns free heap to the kernel and drops the resident pages of code: the executable's
// only, or every library's too.
void release_startup_memory(bool all_files);

}  // namespace berth
