#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>

#include "base/error.h"
#include "cli/template.h"
#include "cli/template_internal.h"

namespace berth::cli {

using nlohmann::json;

std::string go_sprint(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::null:
      return "<nil>";
    case json::value_t::discarded:
      return "<no value>";
    case json::value_t::array: {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + go_sprint(v[i]);
      return s + "]";
    }
    case json::value_t::object: {
      std::string s = "map[";
      bool first = true;
      for (auto& [k, e] : v.items()) {
        s += (first ? "" : " ") + k + ":" + go_sprint(e);
        first = false;
      }
      return s + "]";
    }
    default:
      return v.dump();
  }
}

namespace tmpl {
namespace {

// printf with a Go-compatible spec rebuilt for C; sized so long strings are not cut.
template <typename T>
std::string c_format(const std::string& spec, T value) {
  int n = std::snprintf(nullptr, 0, spec.c_str(), value);
  std::string s(static_cast<size_t>(std::max(n, 0)) + 1, '\0');
  std::snprintf(s.data(), s.size(), spec.c_str(), value);
  s.pop_back();
  return s;
}

[[noreturn]] void call_error(const std::string& fn, const std::string& msg) {
  throw Error("template: error calling " + fn + ": " + msg);
}

void want_args(const std::string& fn, const std::vector<json>& a, size_t n) {
  if (a.size() != n)
    call_error(
        fn, "wrong number of args: want " + std::to_string(n) + " got " + std::to_string(a.size()));
}

std::string str_arg(const json& v) {
  return go_sprint(v);
}

int64_t int_arg(const std::string& fn, const json& v) {
  if (v.is_number()) return v.get<int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (const std::exception&) {
    }
  }
  call_error(fn, "expected integer; found " + go_sprint(v));
}

std::string map_chars(std::string s, int (*f)(int)) {
  for (auto& c : s) c = static_cast<char>(f(static_cast<unsigned char>(c)));
  return s;
}

// Go's deprecated strings.Title: upper-case the first letter of every word.
std::string title(std::string s) {
  bool start = true;
  for (auto& c : s) {
    auto u = static_cast<unsigned char>(c);
    if (start && std::isalpha(u)) c = static_cast<char>(std::toupper(u));
    start = !(std::isalnum(u) || c == '_' || c == '\'' || u >= 0x80);
  }
  return s;
}

// Ordering for lt/le/gt/ge: numbers with numbers, strings with strings, as Go insists.
int compare(const std::string& fn, const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.get<std::string>().compare(b.get<std::string>());
  call_error(fn, "incompatible types for comparison");
}

bool equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

json index_fn(const std::vector<json>& a) {
  if (a.empty()) call_error("index", "wrong number of args: want at least 1 got 0");
  json cur = a[0];
  for (size_t i = 1; i < a.size(); ++i) {
    if (cur.is_object()) {
      auto it = cur.find(str_arg(a[i]));
      if (it == cur.end()) return json(json::value_t::discarded);
      cur = *it;
    } else if (cur.is_array()) {
      int64_t n = int_arg("index", a[i]);
      if (n < 0 || static_cast<size_t>(n) >= cur.size())
        call_error("index", "index out of range: " + std::to_string(n));
      cur = cur[static_cast<size_t>(n)];
    } else if (cur.is_null() || cur.is_discarded()) {
      call_error("index", "index of untyped nil");
    } else {
      call_error("index", "can't index item of type " + std::string(cur.type_name()));
    }
  }
  return cur;
}

// Go's Sprint adds a space between operands when neither side is a string.
std::string sprint(const std::vector<json>& a) {
  std::string s;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i > 0 && !a[i].is_string() && !a[i - 1].is_string()) s += ' ';
    s += go_sprint(a[i]);
  }
  return s;
}

std::string sprintln(const std::vector<json>& a) {
  std::string s;
  for (size_t i = 0; i < a.size(); ++i) s += (i ? " " : "") + go_sprint(a[i]);
  return s + "\n";
}

using FuncMap = std::map<std::string, Func>;

FuncMap make_functions() {
  FuncMap m;
  m["json"] = [](const std::vector<json>& a) -> json {
    want_args("json", a, 1);
    return a[0].is_discarded() ? "null" : a[0].dump();
  };
  m["upper"] = [](const std::vector<json>& a) -> json {
    want_args("upper", a, 1);
    return map_chars(str_arg(a[0]), ::toupper);
  };
  m["lower"] = [](const std::vector<json>& a) -> json {
    want_args("lower", a, 1);
    return map_chars(str_arg(a[0]), ::tolower);
  };
  m["title"] = [](const std::vector<json>& a) -> json {
    want_args("title", a, 1);
    return title(str_arg(a[0]));
  };
  m["join"] = [](const std::vector<json>& a) -> json {
    want_args("join", a, 2);
    if (!a[0].is_array()) call_error("join", "expected a list; found " + go_sprint(a[0]));
    std::string s, sep = str_arg(a[1]);
    for (size_t i = 0; i < a[0].size(); ++i) s += (i ? sep : "") + go_sprint(a[0][i]);
    return s;
  };
  m["split"] = [](const std::vector<json>& a) -> json {
    want_args("split", a, 2);
    std::string s = str_arg(a[0]), sep = str_arg(a[1]);
    json out = json::array();
    if (sep.empty()) {
      for (char c : s) out.push_back(std::string(1, c));
      return out;
    }
    size_t start = 0, pos;
    while ((pos = s.find(sep, start)) != std::string::npos) {
      out.push_back(s.substr(start, pos - start));
      start = pos + sep.size();
    }
    out.push_back(s.substr(start));
    return out;
  };
  m["pad"] = [](const std::vector<json>& a) -> json {
    want_args("pad", a, 3);
    return std::string(static_cast<size_t>(std::max<int64_t>(0, int_arg("pad", a[1]))), ' ') +
           str_arg(a[0]) +
           std::string(static_cast<size_t>(std::max<int64_t>(0, int_arg("pad", a[2]))), ' ');
  };
  m["truncate"] = [](const std::vector<json>& a) -> json {
    want_args("truncate", a, 2);
    std::string s = str_arg(a[0]);
    auto n = static_cast<size_t>(std::max<int64_t>(0, int_arg("truncate", a[1])));
    return s.size() > n ? s.substr(0, n) : s;
  };
  m["index"] = index_fn;
  m["len"] = [](const std::vector<json>& a) -> json {
    want_args("len", a, 1);
    if (a[0].is_string()) return a[0].get<std::string>().size();
    if (a[0].is_array() || a[0].is_object()) return a[0].size();
    call_error("len", "len of type " + std::string(a[0].type_name()));
  };
  m["printf"] = [](const std::vector<json>& a) -> json {
    if (a.empty()) call_error("printf", "wrong number of args: want at least 1 got 0");
    return go_printf(str_arg(a[0]), std::vector<json>(a.begin() + 1, a.end()));
  };
  m["print"] = [](const std::vector<json>& a) -> json { return sprint(a); };
  m["println"] = [](const std::vector<json>& a) -> json { return sprintln(a); };
  m["not"] = [](const std::vector<json>& a) -> json {
    want_args("not", a, 1);
    return !truthy(a[0]);
  };
  m["and"] = [](const std::vector<json>& a) -> json {
    if (a.empty()) call_error("and", "wrong number of args");
    for (const auto& v : a)
      if (!truthy(v)) return v;
    return a.back();
  };
  m["or"] = [](const std::vector<json>& a) -> json {
    if (a.empty()) call_error("or", "wrong number of args");
    for (const auto& v : a)
      if (truthy(v)) return v;
    return a.back();
  };
  m["eq"] = [](const std::vector<json>& a) -> json {
    if (a.size() < 2) call_error("eq", "missing argument for comparison");
    for (size_t i = 1; i < a.size(); ++i)
      if (equal(a[0], a[i])) return true;
    return false;
  };
  m["ne"] = [](const std::vector<json>& a) -> json {
    want_args("ne", a, 2);
    return !equal(a[0], a[1]);
  };
  m["lt"] = [](const std::vector<json>& a) -> json {
    want_args("lt", a, 2);
    return compare("lt", a[0], a[1]) < 0;
  };
  m["le"] = [](const std::vector<json>& a) -> json {
    want_args("le", a, 2);
    return compare("le", a[0], a[1]) <= 0;
  };
  m["gt"] = [](const std::vector<json>& a) -> json {
    want_args("gt", a, 2);
    return compare("gt", a[0], a[1]) > 0;
  };
  m["ge"] = [](const std::vector<json>& a) -> json {
    want_args("ge", a, 2);
    return compare("ge", a[0], a[1]) >= 0;
  };
  return m;
}

// docker's HeaderFunctions: the header row passes column names through unchanged.
FuncMap make_header_functions() {
  FuncMap m = make_functions();
  auto pass = [](const std::vector<json>& a) -> json { return a.empty() ? json("") : a[0]; };
  for (const char* name : {"split", "join", "title", "lower", "upper", "pad", "truncate"})
    m[name] = pass;
  m["json"] = [](const std::vector<json>&) -> json { return ""; };
  return m;
}

}  // namespace

const Func* find_function(const std::string& name, bool header) {
  static const FuncMap funcs = make_functions();
  static const FuncMap header_funcs = make_header_functions();
  const FuncMap& m = header ? header_funcs : funcs;
  auto it = m.find(name);
  return it == m.end() ? nullptr : &it->second;
}

bool truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return false;
    case json::value_t::boolean:
      return v.get<bool>();
    case json::value_t::string:
    case json::value_t::array:
    case json::value_t::object:
      return !v.empty();
    default:
      return v.get<double>() != 0;
  }
}

std::string go_printf(const std::string& fmt, const std::vector<json>& args) {
  std::string out;
  size_t argi = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    size_t start = i++;
    while (i < fmt.size() && std::strchr("+-# 0", fmt[i])) ++i;
    while (i < fmt.size() && (std::isdigit(static_cast<unsigned char>(fmt[i])) || fmt[i] == '.'))
      ++i;
    if (i >= fmt.size()) {
      out += "%!(NOVERB)";
      break;
    }
    char verb = fmt[i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    std::string spec = fmt.substr(start, i - start);
    if (argi >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const json& a = args[argi++];
    switch (verb) {
      case 'd':
        if (!a.is_number()) {
          out += "%!d(" + go_sprint(a) + ")";
          continue;
        }
        out += c_format(spec + "lld", static_cast<long long>(a.get<int64_t>()));
        break;
      case 'x':
      case 'X':
      case 'o':
        out += c_format(spec + "ll" + verb,
                        static_cast<long long>(a.is_number() ? a.get<int64_t>() : 0));
        break;
      case 'f':
      case 'F':
      case 'g':
      case 'e':
        out += c_format(spec + verb, a.is_number() ? a.get<double>() : 0.0);
        break;
      case 'q':
        out += c_format(spec + 's', json(go_sprint(a)).dump().c_str());
        break;
      case 't':
      case 's':
      case 'v':
        out += c_format(spec + 's', go_sprint(a).c_str());
        break;
      default:
        out += std::string("%!") + verb + "(" + go_sprint(a) + ")";
        continue;
    }
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t i = argi; i < args.size(); ++i) out += (i > argi ? ", " : "") + go_sprint(args[i]);
    out += ")";
  }
  return out;
}

}  // namespace tmpl
}  // namespace berth::cli
