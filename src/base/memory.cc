#include "base/memory.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace berth {

void release_startup_memory(bool all_files) {
  ::malloc_trim(0);
  // Only code: its pages are never written, so they are clean copies of the file. Read-only
  // data is not touched: RELRO pages were written (relocated) before they were protected.
  FILE* maps = std::fopen("/proc/self/maps", "re");
  if (!maps) return;
  char exe[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    std::fclose(maps);
    return;
  }
  char line[8192];
  while (std::fgets(line, sizeof line, maps)) {
    unsigned long start, end;
    char perms[5] = {};
    int path_at = 0;
    if (std::sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3)
      continue;
    std::string path = line + path_at;
    if (!path.empty() && path.back() == '\n') path.pop_back();
    if (perms[2] != 'x' || perms[1] == 'w' || path.empty() || path[0] != '/') continue;
    if (!all_files && path != exe) continue;
    ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
  }
  std::fclose(maps);
}

}  // namespace berth
