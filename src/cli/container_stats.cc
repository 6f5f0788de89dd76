// `berth stats`: a live table of containers' resource use, redrawn in place, as `docker stats`.
#include "cli/container_stats.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/command.h"
#include "cli/formatter.h"
#include "cli/units.h"

namespace berth::cli {

using nlohmann::json;

namespace {

const char* const kDefaultFormat =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{."
    "BlockIO}}\t{{.PIDs}}";

double number(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

const json& object(const json& j, const char* key) {
  static const json empty = json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

double cpu_percent(const json& pre, const json& now) {
  double cpu_delta = number(object(now, "cpu_usage"), "total_usage") -
                     number(object(pre, "cpu_usage"), "total_usage");
  double system_delta = number(now, "system_cpu_usage") - number(pre, "system_cpu_usage");
  double cpus = number(now, "online_cpus");
  if (cpus == 0) {
    auto it = object(now, "cpu_usage").find("percpu_usage");
    if (it != object(now, "cpu_usage").end() && it->is_array())
      cpus = static_cast<double>(it->size());
  }
  return system_delta > 0 && cpu_delta > 0 ? cpu_delta / system_delta * cpus * 100.0 : 0.0;
}

// Usage less the page cache the kernel can drop first, as cadvisor and the docker CLI count it.
double memory_used(const json& mem) {
  double usage = number(mem, "usage");
  const json& stats = object(mem, "stats");
  if (stats.contains("total_inactive_file")) {
    double inactive = number(stats, "total_inactive_file");
    if (inactive < usage) return usage - inactive;
  }
  double inactive = number(stats, "inactive_file");
  return inactive < usage ? usage - inactive : usage;
}

std::string percent(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f%%", v);
  return buf;
}

json stats_row(const StatsEntry& e, bool trunc) {
  std::string name = e.name.rfind('/', 0) == 0 ? e.name.substr(1) : e.name;
  auto pair = [&](double a, double b) { return human_size(a, 3) + " / " + human_size(b, 3); };
  const std::string none = "--";
  return {{"Container", e.container},
          {"Name", name.empty() ? none : name},
          {"ID", trunc ? truncate_id(e.id) : e.id},
          {"CPUPerc", e.invalid ? none : percent(e.cpu_percent)},
          {"MemUsage",
           e.invalid ? "-- / --" : bytes_size(e.memory) + " / " + bytes_size(e.memory_limit)},
          {"MemPerc", e.invalid ? none : percent(e.memory_percent)},
          {"NetIO", e.invalid ? none : pair(e.net_rx, e.net_tx)},
          {"BlockIO", e.invalid ? none : pair(e.block_read, e.block_write)},
          {"PIDs", e.invalid ? none : std::to_string(e.pids)}};
}

// One container's line of the table, fed by its own stats stream.
struct Slot {
  StatsEntry entry;
  std::string error;
  bool answered = false;  // the first answer (or the error) is in
};

struct Board {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<Slot>> slots;
  bool ended = false;  // the events stream is gone (the daemon went away)

  std::shared_ptr<Slot> add(const std::string& container) {
    std::lock_guard lk(mu);
    for (auto& s : slots)
      if (s->entry.container == container) return nullptr;
    auto s = std::make_shared<Slot>();
    s->entry.container = container;
    s->entry.invalid = true;
    slots.push_back(s);
    return s;
  }
  void remove(const std::string& container) {
    std::lock_guard lk(mu);
    std::erase_if(slots, [&](auto& s) { return s->entry.container == container; });
  }
  std::vector<StatsEntry> entries() {
    std::lock_guard lk(mu);
    std::vector<StatsEntry> out;
    for (auto& s : slots) out.push_back(s->entry);
    return out;
  }
};

// Reads the container's stats answers into its slot until the stream ends.
void collect(ApiClient& api, std::shared_ptr<Board> board, std::shared_ptr<Slot> slot,
             bool stream) {
  auto done = [&](const std::string& error) {
    std::lock_guard lk(board->mu);
    if (!error.empty()) {
      slot->error = error;
      slot->entry.invalid = true;
    }
    slot->answered = true;
    board->cv.notify_all();
  };
  try {
    JsonSplitter split([&](const json& answer) {
      StatsEntry e = stats_entry(answer, slot->entry.container);
      std::lock_guard lk(board->mu);
      slot->entry = e;
      slot->answered = true;
      board->cv.notify_all();
    });
    api.stream({}, "/containers/" + path_escape(slot->entry.container) + "/stats",
               Query().add("stream", stream ? "1" : "0"),
               [&](std::string_view d) { split.feed(d); });
    done("");
  } catch (const std::exception& e) {
    done(e.what());
  }
}

void start_collecting(ApiClient& api, const std::shared_ptr<Board>& board,
                      const std::string& container, bool stream) {
  if (auto slot = board->add(container))
    std::thread(collect, std::ref(api), board, slot, stream).detach();
}

// Follows container events: new containers join the table, removed (or, without --all,
// stopped) ones leave it.
void watch_events(ApiClient& api, std::shared_ptr<Board> board, bool all) {
  try {
    JsonSplitter split([&](const json& e) {
      std::string action = e.value("Action", e.value("status", ""));
      std::string id = object(e, "Actor").value("ID", e.value("id", ""));
      if (id.empty()) return;
      if (action == "start" || (all && action == "create")) {
        start_collecting(api, board, id, true);
      } else if (action == "destroy" || (!all && action == "die")) {
        board->remove(id);
      }
    });
    api.stream({}, "/events", Query().add("filters", R"({"type":{"container":true}})"),
               [&](std::string_view d) { split.feed(d); });
  } catch (const std::exception&) {
  }
  std::lock_guard lk(board->mu);
  board->ended = true;
}

struct Options {
  bool all = false, no_stream = false, no_trunc = false;
  std::string format;
};

int run_stats(Context& ctx, const Options& o, const Args& containers) {
  ApiClient& api = ctx.api();
  api.version();  // negotiated once, before the collectors share the client
  auto board = std::make_shared<Board>();
  bool show_all = containers.empty();
  if (show_all) {
    if (!o.no_stream) std::thread(watch_events, std::ref(api), board, o.all).detach();
    json list = api.call("GET", "/containers/json", Query().flag("all", o.all));
    for (auto& c : list) start_collecting(api, board, c.value("Id", ""), !o.no_stream);
  } else {
    for (auto& c : containers) start_collecting(api, board, c, !o.no_stream);
  }
  // Every container's first answer before anything is shown.
  {
    std::unique_lock lk(board->mu);
    board->cv.wait(lk, [&] {
      for (auto& s : board->slots)
        if (!s->answered) return false;
      return true;
    });
    if (!show_all) {
      std::string errors;
      for (auto& s : board->slots)
        if (!s->error.empty()) errors += s->error + "\n";
      if (!errors.empty()) {
        std::fputs(errors.c_str(), stderr);
        return 1;
      }
    }
  }
  std::string format = o.format;
  if (format.empty() && ctx.config().contains("statsFormat") &&
      ctx.config()["statsFormat"].is_string())
    format = ctx.config()["statsFormat"].get<std::string>();
  if (o.no_stream) {
    auto entries = board->entries();
    if (!entries.empty()) print_out(render_stats(entries, format, !o.no_trunc));
    return 0;
  }
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto entries = board->entries();
    if (entries.empty() && !show_all) {
      print_out("\033[H\033[J");
      return 0;
    }
    // The cursor to the top left, each line cleared past its end, the rest of the screen
    // cleared: the table is redrawn in place without flicker.
    std::string frame = "\033[H";
    std::string text = render_stats(entries, format, !o.no_trunc);
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) nl = text.size();
      frame += text.substr(start, nl - start) + "\033[K\n";
      start = nl + 1;
    }
    frame += "\033[J";
    print_out(frame);
    std::lock_guard lk(board->mu);
    if (board->ended) return 0;
  }
}

}  // namespace

StatsEntry stats_entry(const json& answer, const std::string& container) {
  StatsEntry e;
  e.container = container;
  e.name = answer.value("name", "");
  e.id = answer.value("id", "");
  const json& mem = object(answer, "memory_stats");
  e.cpu_percent = cpu_percent(object(answer, "precpu_stats"), object(answer, "cpu_stats"));
  e.memory = memory_used(mem);
  e.memory_limit = number(mem, "limit");
  e.memory_percent = e.memory_limit != 0 ? e.memory / e.memory_limit * 100.0 : 0.0;
  for (auto& [_, n] : object(answer, "networks").items()) {
    e.net_rx += number(n, "rx_bytes");
    e.net_tx += number(n, "tx_bytes");
  }
  auto io = object(answer, "blkio_stats").find("io_service_bytes_recursive");
  if (io != object(answer, "blkio_stats").end() && io->is_array()) {
    for (auto& entry : *io) {
      std::string op = entry.value("op", "");
      if (op.empty()) continue;
      if (op[0] == 'r' || op[0] == 'R') e.block_read += number(entry, "value");
      if (op[0] == 'w' || op[0] == 'W') e.block_write += number(entry, "value");
    }
  }
  e.pids = static_cast<uint64_t>(number(object(answer, "pids_stats"), "current"));
  return e;
}

std::string render_stats(const std::vector<StatsEntry>& entries, const std::string& format,
                         bool trunc) {
  ListFormat f{.format = format,
               .default_table = kDefaultFormat,
               .headers = {{"Container", "CONTAINER"},
                           {"Name", "NAME"},
                           {"ID", "CONTAINER ID"},
                           {"CPUPerc", "CPU %"},
                           {"MemUsage", "MEM USAGE / LIMIT"},
                           {"MemPerc", "MEM %"},
                           {"NetIO", "NET I/O"},
                           {"BlockIO", "BLOCK I/O"},
                           {"PIDs", "PIDS"}}};
  std::vector<json> rows;
  for (auto& e : entries) rows.push_back(stats_row(e, trunc));
  return render_list(f, rows);
}

void register_container_stats(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container stats", "stats"},
         .usage = "[OPTIONS] [CONTAINER...]",
         .summary = "Display a live stream of container(s) resource usage statistics"},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
          app.add_flag("--no-stream", o->no_stream,
                       "Disable streaming stats and only pull the first result");
          app.add_flag("--no-trunc", o->no_trunc, "Do not truncate output");
          add_format_flag(app, o->format);
          return [&ctx, o, &args] { return run_stats(ctx, *o, args); };
        });
}

}  // namespace berth::cli
