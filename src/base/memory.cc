#include "shim/memory.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace berth::shim {

void release_startup_memory() {
  ::malloc_trim(0);
  // Only read-only, executable or read-only-data mappings of the executable itself: their
  // pages are clean copies of the file, so dropping them loses nothing.
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
    if (path != exe || perms[1] == 'w') continue;
    ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
  }
  std::fclose(maps);
}

}  // namespace berth::shim
