// berth-stress: a load generator for the resource-limit tests, in the manner of
// progrium/stress. Workers of three kinds run until --timeout:
//   --cpu N                   N workers that spin on the CPU
//   --vm N --vm-bytes B       N workers that allocate B bytes each, write every page once and
//                             hold them
//   --hdd N --hdd-bytes B     N workers that write B bytes with O_DIRECT to a file of their own
//                             in the current directory, over and over
// Sizes take k, m and g suffixes (powers of 1024). Each worker says on stdout when it is under
// way ("vm worker holds B bytes" once every page is written). A worker that dies makes the
// whole run fail (exit 1), after the others are stopped; a run that reaches its timeout exits 0.
// Static and self-contained, so a test can copy it into any image.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "berth-stress: %s\nusage: berth-stress [--cpu N] [--vm N --vm-bytes B] "
               "[--hdd N --hdd-bytes B] --timeout SECONDS\n",
               why);
  std::exit(2);
}

size_t parse_size(const char* s) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s || v < 0) usage("bad size");
  switch (*end) {
    case 'g':
    case 'G':
      v *= 1024;
      [[fallthrough]];
    case 'm':
    case 'M':
      v *= 1024;
      [[fallthrough]];
    case 'k':
    case 'K':
      v *= 1024;
      end++;
      break;
    case '\0':
      break;
    default:
      usage("bad size suffix");
  }
  if (*end == 'b' || *end == 'B') end++;
  if (*end) usage("bad size");
  return static_cast<size_t>(v);
}

[[noreturn]] void cpu_worker() {
  std::printf("cpu worker spinning\n");
  std::fflush(stdout);
  volatile double x = 0;
  for (unsigned long i = 0;; i++) x = x + std::sqrt(static_cast<double>(i));
}

[[noreturn]] void vm_worker(size_t bytes) {
  // mmap, not malloc: the memory is the process's own, never returned to a shared arena.
  auto* p = static_cast<char*>(
      mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (p == MAP_FAILED) {
    std::perror("berth-stress: mmap");
    _exit(1);
  }
  long page = sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < bytes; i += static_cast<size_t>(page)) p[i] = 'Z';
  std::printf("vm worker holds %zu bytes\n", bytes);
  std::fflush(stdout);
  for (;;) pause();
}

[[noreturn]] void hdd_worker(size_t bytes, int n) {
  constexpr size_t kBlock = 1 << 20;
  void* buf = nullptr;
  if (posix_memalign(&buf, 4096, kBlock) != 0) _exit(1);
  std::memset(buf, 'Z', kBlock);
  std::string name = "./berth-stress.hdd." + std::to_string(getpid()) + "." + std::to_string(n);
  int fd = open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0600);
  if (fd < 0) {
    std::perror(("berth-stress: open " + name).c_str());
    _exit(1);
  }
  unlink(name.c_str());
  std::printf("hdd worker writing\n");
  std::fflush(stdout);
  for (;;) {
    for (size_t done = 0; done < bytes; done += kBlock) {
      if (pwrite(fd, buf, kBlock, static_cast<off_t>(done)) != static_cast<ssize_t>(kBlock)) {
        std::perror("berth-stress: write");
        _exit(1);
      }
    }
  }
}

std::vector<pid_t> workers;

void stop_workers() {
  for (pid_t w : workers) kill(w, SIGKILL);
  while (wait(nullptr) > 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  int cpu = 0, vm = 0, hdd = 0;
  size_t vm_bytes = 256 << 20, hdd_bytes = 1 << 30;
  unsigned timeout = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const char* v = argv[++i];
    if (a == "--cpu" || a == "-c")
      cpu = std::atoi(v);
    else if (a == "--vm" || a == "-m")
      vm = std::atoi(v);
    else if (a == "--vm-bytes")
      vm_bytes = parse_size(v);
    else if (a == "--hdd" || a == "-d")
      hdd = std::atoi(v);
    else if (a == "--hdd-bytes")
      hdd_bytes = parse_size(v);
    else if (a == "--timeout" || a == "-t")
      timeout = static_cast<unsigned>(std::atoi(v));
    else
      usage(("unknown option " + a).c_str());
  }
  if (timeout == 0) usage("--timeout is required");
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // The parent only waits: for a worker to die, or for the alarm that ends the run. Blocked
  // before the first fork, so that no worker's death goes unseen.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGALRM);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  auto spawn = [](int count, auto body) {
    for (int n = 0; n < count; n++) {
      pid_t pid = fork();
      if (pid < 0) {
        std::perror("berth-stress: fork");
        stop_workers();
        std::exit(1);
      }
      if (pid == 0) body(n);
      workers.push_back(pid);
    }
  };
  spawn(cpu, [](int) { cpu_worker(); });
  spawn(vm, [&](int) { vm_worker(vm_bytes); });
  spawn(hdd, [&](int n) { hdd_worker(hdd_bytes, n); });
  std::printf("berth-stress: %d cpu, %d vm, %d hdd workers for %us\n", cpu, vm, hdd, timeout);

  alarm(timeout);
  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGALRM) {
      stop_workers();
      std::printf("berth-stress: successful run completed in %us\n", timeout);
      return 0;
    }
    int status = 0;
    pid_t dead = waitpid(-1, &status, WNOHANG);
    if (dead <= 0) continue;
    if (WIFSIGNALED(status))
      std::printf("berth-stress: FAIL: worker %d got signal %d\n", dead, WTERMSIG(status));
    else
      std::printf("berth-stress: FAIL: worker %d exited %d\n", dead, WEXITSTATUS(status));
    stop_workers();
    return 1;
  }
}
