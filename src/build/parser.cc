// The Dockerfile parser: directives, comments, continuation lines, JSON and shell forms.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "build/build.h"

namespace berth::build {
namespace {

const std::set<std::string> kKeywords = {
    "from",  "run",    "cmd",     "entrypoint", "env",        "arg",
    "label", "expose", "user",    "workdir",    "volume",     "copy",
    "add",   "shell",  "onbuild", "maintainer", "stopsignal", "healthcheck"};
// Instructions whose arguments may be a JSON array of strings.
const std::set<std::string> kJsonForms = {"run",  "cmd", "entrypoint", "shell",
                                          "copy", "add", "volume"};
// Instructions that take `--name=value` flags before their arguments.
const std::set<std::string> kFlagged = {"from", "run", "copy", "add", "healthcheck"};

[[noreturn]] void fail(int line, const std::string& what) {
  throw InvalidArgument("Dockerfile parse error on line " + std::to_string(line) + ": " + what);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A JSON array of strings, or nullopt when the text is not one.
std::optional<std::vector<std::string>> json_strings(std::string_view text) {
  if (text.empty() || text.front() != '[') return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (auto& v : j) {
    if (!v.is_string()) return std::nullopt;
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Splits on white space, keeping quoted runs and escaped characters inside words (the
// quotes stay: expansion removes them later).
std::vector<std::string> raw_words(std::string_view s, char escape) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (!quote && std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) out.push_back(cur);
      cur.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    cur += c;
    if (c == escape && quote != '\'' && i + 1 < s.size()) {
      cur += s[++i];
      continue;
    }
    if (quote && c == quote)
      quote = 0;
    else if (!quote && (c == '"' || c == '\''))
      quote = c;
  }
  if (in_word) out.push_back(cur);
  return out;
}

// RUN, COPY and ADD's heredoc markers, in order (none in a JSON form).
std::vector<Heredoc> markers_of(const Instruction& ins, char escape) {
  std::vector<Heredoc> out;
  if (ins.json_form || (ins.keyword != "run" && ins.keyword != "copy" && ins.keyword != "add"))
    return out;
  std::vector<std::string> words = ins.args;
  if (ins.keyword == "run" && !words.empty()) words = raw_words(words[0], escape);
  for (auto& w : words)
    if (auto h = heredoc_marker(w)) out.push_back(*h);
  return out;
}

}  // namespace

std::optional<Heredoc> heredoc_marker(std::string_view word) {
  while (!word.empty() && std::isdigit(static_cast<unsigned char>(word.front())))
    word.remove_prefix(1);
  if (word.substr(0, 2) != "<<") return std::nullopt;
  word.remove_prefix(2);
  Heredoc h;
  if (!word.empty() && word.front() == '-') {
    h.chomp = true;
    word.remove_prefix(1);
  }
  if (word.empty() || word.find('<') != std::string_view::npos) return std::nullopt;
  for (char c : word) {
    if (c == '"' || c == '\'') {
      h.expand = false;  // a quoted delimiter, as in the shell
      continue;
    }
    h.name += c;
  }
  if (h.name.empty()) return std::nullopt;
  return h;
}

Instruction parse_instruction(std::string_view text, int line_no, char escape) {
  Instruction ins;
  ins.line = line_no;
  ins.original = std::string(trim_right(trim_left(text)));
  std::string_view rest = ins.original;
  size_t sp = 0;
  while (sp < rest.size() && !std::isspace(static_cast<unsigned char>(rest[sp]))) sp++;
  std::string word(rest.substr(0, sp));
  ins.keyword = lower(word);
  if (!kKeywords.count(ins.keyword)) fail(line_no, "unknown instruction: " + upper(word));
  rest = trim_left(rest.substr(sp));
  if (kFlagged.count(ins.keyword)) {
    while (rest.size() > 2 && rest.substr(0, 2) == "--") {
      size_t end = 0;
      while (end < rest.size() && !std::isspace(static_cast<unsigned char>(rest[end]))) end++;
      std::string flag(rest.substr(2, end - 2));
      auto eq = flag.find('=');
      ins.flags.emplace_back(lower(flag.substr(0, eq)),
                             eq == std::string::npos ? "" : flag.substr(eq + 1));
      rest = trim_left(rest.substr(end));
    }
  }
  if (ins.keyword == "onbuild" || ins.keyword == "maintainer" || ins.keyword == "workdir" ||
      ins.keyword == "user" || ins.keyword == "stopsignal" || ins.keyword == "healthcheck") {
    if (!rest.empty()) ins.args.emplace_back(rest);
  } else if (kJsonForms.count(ins.keyword) && !rest.empty() && rest.front() == '[') {
    if (auto j = json_strings(rest)) {
      ins.args = *j;
      ins.json_form = true;
    } else if (ins.keyword == "shell") {
      fail(line_no, "SHELL requires the arguments to be in JSON form");
    } else {
      ins.args.emplace_back(rest);  // not JSON after all: the shell form, as Docker does
    }
  } else if (ins.keyword == "run" || ins.keyword == "cmd" || ins.keyword == "entrypoint") {
    if (!rest.empty()) ins.args.emplace_back(rest);
  } else if (ins.keyword == "shell") {
    fail(line_no, "SHELL requires the arguments to be in JSON form");
  } else if (ins.keyword == "env" || ins.keyword == "label") {
    auto words = raw_words(rest, escape);
    if (words.empty()) fail(line_no, upper(ins.keyword) + " requires at least one argument");
    if (words[0].find('=') == std::string::npos) {
      // The legacy form: `ENV key value with spaces`.
      if (words.size() < 2 && ins.keyword == "env") fail(line_no, "ENV must have two arguments");
      std::string_view value = trim_left(rest.substr(rest.find(words[0]) + words[0].size()));
      ins.args = {words[0], std::string(value)};
      ins.legacy_form = true;
    } else {
      for (auto& w : words) {
        auto eq = w.find('=');
        if (eq == std::string::npos || eq == 0)
          fail(line_no,
               "Syntax error - can't find = in \"" + w + "\". Must be of the form: name=value");
        ins.args.push_back(w.substr(0, eq));
        ins.args.push_back(w.substr(eq + 1));
      }
    }
  } else {
    ins.args = raw_words(rest, escape);
  }
  static const std::set<std::string> kNeedArgs = {
      "from", "env", "arg",   "label",   "expose",     "user",       "workdir",    "volume",
      "copy", "add", "shell", "onbuild", "maintainer", "stopsignal", "healthcheck"};
  if (ins.args.empty() && kNeedArgs.count(ins.keyword))
    fail(line_no, upper(ins.keyword) + " requires at least one argument");
  if ((ins.keyword == "copy" || ins.keyword == "add") && ins.args.size() < 2)
    fail(line_no, upper(ins.keyword) +
                      " requires at least two arguments, but only one was "
                      "provided. Destination could not be determined.");
  if (ins.keyword == "workdir" || ins.keyword == "user" || ins.keyword == "stopsignal") {
    auto words = raw_words(ins.args[0], escape);
    if (words.size() != 1) fail(line_no, upper(ins.keyword) + " requires exactly one argument");
  }
  if (ins.keyword == "onbuild") {
    std::string inner = lower(std::string(ins.args[0].substr(0, ins.args[0].find_first_of(" \t"))));
    if (inner == "onbuild") fail(line_no, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (inner == "from" || inner == "maintainer")
      fail(line_no, upper(inner) + " isn't allowed as an ONBUILD trigger");
    parse_instruction(ins.args[0], line_no, escape);  // checked now, run in children
  }
  return ins;
}

Dockerfile parse_dockerfile(std::string_view text) {
  Dockerfile df;
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(pos, nl - pos));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    pos = nl + 1;
  }
  // Parser directives: `# name=value` lines at the very top.
  size_t i = 0;
  std::set<std::string> seen;
  for (; i < lines.size(); i++) {
    std::string_view l = trim_left(lines[i]);
    if (l.empty() || l.front() != '#') break;
    l = trim_left(l.substr(1));
    auto eq = l.find('=');
    if (eq == std::string_view::npos) break;
    std::string name = lower(std::string(trim_right(l.substr(0, eq))));
    std::string value(trim_right(trim_left(l.substr(eq + 1))));
    if (name.empty() || name.find_first_of(" \t") != std::string::npos) break;
    if (!seen.insert(name).second)
      fail(i + 1, "only one " + name + " parser directive can be used");
    if (name == "escape") {
      if (value != "\\" && value != "`")
        fail(i + 1, "invalid escape token '" + value + "' does not match ` or \\");
      df.escape = value[0];
    }
    // `syntax` and `check` are accepted: the syntax is this builder's own.
  }
  Stage* stage = nullptr;
  while (i < lines.size()) {
    std::string_view l = trim_left(lines[i]);
    if (l.empty() || l.front() == '#') {
      i++;
      continue;
    }
    int start = static_cast<int>(i) + 1;
    std::string joined;
    for (;;) {
      std::string_view cur = trim_right(lines[i]);
      i++;
      if (!cur.empty() && cur.back() == df.escape) {
        joined += cur.substr(0, cur.size() - 1);
        // The next lines that are comments or empty do not end the instruction.
        while (i < lines.size()) {
          std::string_view n = trim_left(lines[i]);
          if (!n.empty() && n.front() != '#') break;
          i++;
        }
        if (i >= lines.size()) break;
        continue;
      }
      joined += cur;
      break;
    }
    Instruction ins = parse_instruction(joined, start, df.escape);
    // Here-documents: their bodies follow the instruction, one after the other.
    for (Heredoc& h : markers_of(ins, df.escape)) {
      for (;;) {
        if (i >= lines.size()) fail(start, "unterminated heredoc " + h.name);
        std::string_view l = lines[i++];
        if (h.chomp) l.remove_prefix(std::min(l.find_first_not_of('\t'), l.size()));
        if (l == h.name) break;
        h.content += std::string(l) + "\n";
      }
      ins.heredocs.push_back(std::move(h));
    }
    if (ins.keyword == "from") {
      Stage s;
      s.from = ins;
      s.base = ins.args[0];
      if (ins.args.size() == 3 && lower(ins.args[1]) == "as") {
        s.name = lower(ins.args[2]);
      } else if (ins.args.size() != 1) {
        fail(start, "FROM requires either one or three arguments");
      }
      df.stages.push_back(std::move(s));
      stage = &df.stages.back();
    } else if (!stage) {
      if (ins.keyword != "arg") fail(start, "no build stage in current context");  // moby's words
      df.meta_args.push_back(std::move(ins));
    } else {
      stage->instructions.push_back(std::move(ins));
    }
  }
  if (df.stages.empty()) throw InvalidArgument("the Dockerfile cannot be empty");
  return df;
}

}  // namespace berth::build
