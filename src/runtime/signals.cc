#include <signal.h>
#include <string.h>

#include <cctype>

#include "base/error.h"
#include "runtime/runtime.h"

namespace berth::runtime {

int parse_signal(const std::string& s) {
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
    try {
      size_t used = 0;
      int n = std::stoi(s, &used);
      if (used == s.size() && n > 0 && n < NSIG) return n;
    } catch (const std::exception&) {
    }
    throw Error("invalid signal: " + s);
  }
  std::string name;
  for (char c : s) name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (int n = 1; n < NSIG; n++) {
    const char* abbrev = sigabbrev_np(n);
    if (abbrev && name == abbrev) return n;
  }
  if (name.rfind("RTMIN+", 0) == 0 || name.rfind("RTMAX-", 0) == 0) {
    int off = std::atoi(name.c_str() + 6);
    int n = name[2] == 'M' && name[3] == 'I' ? SIGRTMIN + off : SIGRTMAX - off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw Error("invalid signal: " + s);
}

}  // namespace berth::runtime
