#include "cli/json_message.h"

#include "base/error.h"
#include "cli/units.h"

namespace berth::cli {

using nlohmann::json;

std::string progress_bar(int64_t current, int64_t total) {
  std::string sizes = human_size(static_cast<double>(current));
  if (total <= 0) return sizes;
  constexpr int kWidth = 50;
  int filled = static_cast<int>(std::min<int64_t>(kWidth, current * kWidth / total));
  std::string bar = "[" + std::string(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += ">" + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
  return bar + "] " + sizes + "/" + human_size(static_cast<double>(total));
}

void JsonMessagePrinter::print(const json& msg) {
  if (auto it = msg.find("errorDetail"); it != msg.end() && it->is_object()) {
    throw Error(it->value("message", std::string("unknown error")));
  }
  if (auto it = msg.find("error"); it != msg.end() && it->is_string())
    throw Error(it->get<std::string>());
  std::string stream = msg.value("stream", std::string());
  std::string status = msg.value("status", std::string());
  std::string id = msg.value("id", std::string());
  const json* detail = msg.contains("progressDetail") ? &msg["progressDetail"] : nullptr;
  bool progress = detail && detail->is_object() && detail->contains("current");
  if (progress && !terminal_) return;
  std::string line = id.empty() ? "" : id + ": ";
  if (progress) {
    line += status + " " +
            progress_bar(detail->value("current", int64_t{0}), detail->value("total", int64_t{0}));
    std::fprintf(out_, "\r\033[2K%s", line.c_str());
    open_line_ = true;
    std::fflush(out_);
    return;
  }
  finish();
  if (!stream.empty()) {
    std::fputs(stream.c_str(), out_);
  } else if (!status.empty() || !id.empty()) {
    line += status;
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void JsonMessagePrinter::finish() {
  if (open_line_) std::fputc('\n', out_);
  open_line_ = false;
}

}  // namespace berth::cli
