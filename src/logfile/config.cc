#include "logfile/config.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <set>

#include "base/error.h"
#include "base/fs.h"

namespace berth::logfile {
namespace {

// Go's strconv.Atoi, with its error text.
int parse_int(const std::string& v, const std::string& prefix = "") {
  const char* s = v.c_str();
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(s, &end, 10);
  bool syntax = v.empty() || std::isspace(static_cast<unsigned char>(v[0])) || *end != '\0';
  if (syntax || errno == ERANGE || n < INT_MIN || n > INT_MAX)
    throw InvalidArgument(prefix + "strconv.Atoi: parsing \"" + v +
                          "\": " + (syntax ? "invalid syntax" : "value out of range"));
  return static_cast<int>(n);
}

// Go's strconv.ParseBool, with its error text.
bool parse_bool(const std::string& v, const std::string& prefix = "") {
  static const std::set<std::string> kTrue = {"1", "t", "T", "TRUE", "true", "True"};
  static const std::set<std::string> kFalse = {"0", "f", "F", "FALSE", "false", "False"};
  if (kTrue.count(v)) return true;
  if (kFalse.count(v)) return false;
  throw InvalidArgument(prefix + "strconv.ParseBool: parsing \"" + v + "\": invalid syntax");
}

// dockerd's options for every driver (the delivery mode of the copier): accepted, and
// meaningless here since the shim writes each line as it comes.
void check_mode(const std::map<std::string, std::string>& opts) {
  auto mode = opts.find("mode");
  std::string m = mode == opts.end() ? "" : mode->second;
  if (m != "" && m != "blocking" && m != "non-blocking")
    throw InvalidArgument("logger: logging mode not supported: " + m);
  if (auto b = opts.find("max-buffer-size"); b != opts.end()) {
    if (m != "non-blocking")
      throw InvalidArgument(
          "logger: max-buffer-size option is only supported with 'mode=non-blocking'");
    try {
      parse_size(b->second);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("error parsing option max-buffer-size: ") + e.what());
    }
  }
}

// Options every file driver takes and ignores: berth's entries carry no attributes.
bool attribute_opt(const std::string& key) {
  return key == "labels" || key == "labels-regex" || key == "env" || key == "env-regex" ||
         key == "tag" || key == "mode" || key == "max-buffer-size";
}

Config json_file(const std::map<std::string, std::string>& opts) {
  for (auto& [key, value] : opts)
    if (key != "max-file" && key != "max-size" && key != "compress" && !attribute_opt(key))
      throw InvalidArgument("unknown log opt '" + key + "' for json-file log driver");
  Config c;
  if (auto v = opts.find("max-size"); v != opts.end()) {
    c.max_size = parse_size(v->second);
    if (c.max_size <= 0) throw InvalidArgument("max-size must be a positive number");
  }
  if (auto v = opts.find("max-file"); v != opts.end()) {
    c.max_file = parse_int(v->second);
    if (c.max_file < 1) throw InvalidArgument("max-file cannot be less than 1");
  }
  if (auto v = opts.find("compress"); v != opts.end()) {
    c.compress = parse_bool(v->second);
    if (c.compress && (c.max_file == 1 || c.max_size == -1))
      throw InvalidArgument(
          "compress cannot be true when max-file is less than 2 or max-size is not set");
  }
  return c;
}

Config local(const std::map<std::string, std::string>& opts) {
  for (auto& [key, value] : opts)
    if (key != "max-file" && key != "max-size" && key != "compress" && !attribute_opt(key))
      throw InvalidArgument("unknown log opt '" + key + "' for log driver local");
  // dockerd's defaults for local: 20 MiB files, five of them, compressed.
  Config c{.driver = "local", .max_size = 20 << 20, .max_file = 5, .compress = true};
  if (auto v = opts.find("max-size"); v != opts.end()) {
    try {
      c.max_size = parse_size(v->second);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("invalid value for max-size: " + v->second + ": " + e.what());
    }
  }
  if (auto v = opts.find("max-file"); v != opts.end())
    c.max_file = parse_int(v->second, "invalid value for max-file: " + v->second + ": ");
  if (auto v = opts.find("compress"); v != opts.end())
    c.compress = parse_bool(v->second, "invalid boolean value for compress: ");
  if (c.max_size < 0) throw InvalidArgument("max-size must not be negative");
  if (c.max_file < 0) throw InvalidArgument("max-file must not be negative");
  if (c.compress && c.max_file <= 1)
    throw InvalidArgument("compression cannot be enabled when max file count is 1");
  // A size of 0 means no limit, and no count means one file.
  if (c.max_size == 0) c.max_size = -1;
  if (c.max_file == 0) c.max_file = 1;
  return c;
}

}  // namespace

int64_t parse_size(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
  std::string number = s.substr(0, i), unit;
  for (char c : s.substr(i))
    if (c != ' ') unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double value;
  try {
    size_t used = 0;
    value = std::stod(number, &used);
    if (used != number.size()) throw Error("");
  } catch (const std::exception&) {
    throw InvalidArgument("invalid size: '" + s + "'");
  }
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
  static const std::pair<const char*, double> kUnits[] = {{"", 1},
                                                          {"b", 1},
                                                          {"k", 1024.0},
                                                          {"m", 1048576.0},
                                                          {"g", 1073741824.0},
                                                          {"t", 1099511627776.0},
                                                          {"p", 1125899906842624.0}};
  for (auto& [u, mul] : kUnits)
    if (unit == u) return static_cast<int64_t>(std::floor(value * mul));
  throw InvalidArgument("invalid size: '" + s + "'");
}

Config parse_config(const std::string& driver, const std::map<std::string, std::string>& opts) {
  if (driver == "none") return Config{.driver = "none"};
  if (driver != "json-file" && driver != "local")
    throw InvalidArgument("logger: no log driver named '" + driver + "' is registered");
  check_mode(opts);
  return driver == "local" ? local(opts) : json_file(opts);
}

std::string log_path(const std::string& driver, const std::string& container_dir,
                     const std::string& id) {
  if (driver == "json-file") return path_join(container_dir, id + "-json.log");
  if (driver == "local") return path_join(path_join(container_dir, "local-logs"), "container.log");
  return "";
}

}  // namespace berth::logfile
