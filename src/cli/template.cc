#include "cli/template.h"

#include <cctype>
#include <utility>

#include "base/error.h"
#include "cli/template_internal.h"

namespace berth::cli {

using nlohmann::json;

namespace {

struct Pipeline;

struct Arg {
  enum Kind { kField, kVar, kIdent, kLiteral, kPipe } kind = kLiteral;
  std::string name;               // variable or function name
  std::vector<std::string> path;  // .A.B after the dot, variable or parenthesis
  json literal;
  std::shared_ptr<Pipeline> pipe;
};

struct Command {
  std::vector<Arg> args;
};

struct Pipeline {
  std::vector<std::string> decls;
  std::vector<Command> cmds;
};

enum class Tok { kField, kVar, kIdent, kString, kNumber, kLParen, kRParen, kPipe, kDecl, kComma };

struct Token {
  Tok kind;
  std::string text;
};

[[noreturn]] void parse_error(const std::string& msg) {
  throw Error("template parsing error: template: :1: " + msg);
}

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

std::vector<Token> lex(std::string_view s) {
  std::vector<Token> toks;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '.' || c == '$') {
      size_t start = i++;
      while (i < s.size() && (is_ident_char(s[i]) || s[i] == '.')) ++i;
      toks.push_back({c == '.' ? Tok::kField : Tok::kVar, std::string(s.substr(start, i - start))});
    } else if (c == '"' || c == '`') {
      size_t start = i++;
      while (i < s.size() && s[i] != c) i += (c == '"' && s[i] == '\\') ? 2 : 1;
      if (i >= s.size()) parse_error("unterminated quoted string");
      ++i;
      std::string raw(s.substr(start, i - start));
      if (c == '`') {
        toks.push_back({Tok::kString, raw.substr(1, raw.size() - 2)});
      } else {
        try {
          toks.push_back({Tok::kString, json::parse(raw).get<std::string>()});
        } catch (const json::exception&) {
          parse_error("bad string syntax: " + raw);
        }
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+') {
      size_t start = i++;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      toks.push_back({Tok::kNumber, std::string(s.substr(start, i - start))});
    } else if (is_ident_char(c)) {
      size_t start = i;
      while (i < s.size() && is_ident_char(s[i])) ++i;
      toks.push_back({Tok::kIdent, std::string(s.substr(start, i - start))});
    } else if (c == '(' || c == ')' || c == '|' || c == ',') {
      toks.push_back({c == '('   ? Tok::kLParen
                      : c == ')' ? Tok::kRParen
                      : c == '|' ? Tok::kPipe
                                 : Tok::kComma,
                      std::string(1, c)});
      ++i;
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
      toks.push_back({Tok::kDecl, ":="});
      i += 2;
    } else if (c == '=') {
      toks.push_back({Tok::kDecl, "="});
      ++i;
    } else {
      parse_error(std::string("unexpected \"") + c + "\" in command");
    }
  }
  return toks;
}

std::vector<std::string> split_path(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t dot = s.find('.', i + 1);
    std::string part(s.substr(i + 1, dot == s.npos ? s.npos : dot - i - 1));
    if (!part.empty()) out.push_back(std::move(part));
    if (dot == s.npos) break;
    i = dot;
  }
  return out;
}

class PipelineParser {
 public:
  explicit PipelineParser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  Pipeline parse_all() {
    Pipeline p = parse_pipeline();
    if (pos_ != toks_.size()) parse_error("unexpected \"" + toks_[pos_].text + "\" in command");
    return p;
  }

  // The tokens of `range $i, $v := .X` or `$x := .Y` start with declarations.
  Pipeline parse_pipeline() {
    Pipeline p;
    size_t save = pos_;
    std::vector<std::string> decls;
    while (pos_ < toks_.size() && toks_[pos_].kind == Tok::kVar) {
      decls.push_back(toks_[pos_++].text);
      if (pos_ < toks_.size() && toks_[pos_].kind == Tok::kComma) {
        ++pos_;
        continue;
      }
      break;
    }
    if (!decls.empty() && pos_ < toks_.size() && toks_[pos_].kind == Tok::kDecl) {
      ++pos_;
      p.decls = std::move(decls);
    } else {
      pos_ = save;
    }
    while (true) {
      p.cmds.push_back(parse_command());
      if (pos_ < toks_.size() && toks_[pos_].kind == Tok::kPipe) {
        ++pos_;
        continue;
      }
      break;
    }
    return p;
  }

 private:
  Command parse_command() {
    Command c;
    while (pos_ < toks_.size()) {
      Tok k = toks_[pos_].kind;
      if (k == Tok::kPipe || k == Tok::kRParen) break;
      c.args.push_back(parse_arg());
    }
    if (c.args.empty()) parse_error("missing value for command");
    return c;
  }

  Arg parse_arg() {
    const Token& t = toks_[pos_++];
    Arg a;
    switch (t.kind) {
      case Tok::kField:
        a.kind = Arg::kField;
        a.path = split_path(t.text);
        break;
      case Tok::kVar: {
        a.kind = Arg::kVar;
        size_t dot = t.text.find('.');
        a.name = t.text.substr(0, dot);
        if (dot != std::string::npos) a.path = split_path(t.text.substr(dot));
        break;
      }
      case Tok::kString:
        a.literal = t.text;
        break;
      case Tok::kNumber:
        try {
          a.literal = json::parse(t.text[0] == '+' ? t.text.substr(1) : t.text);
        } catch (const json::exception&) {
          parse_error("bad number syntax: \"" + t.text + "\"");
        }
        break;
      case Tok::kIdent:
        if (t.text == "true" || t.text == "false") {
          a.literal = t.text == "true";
        } else if (t.text == "nil") {
          a.literal = nullptr;
        } else {
          if (!tmpl::find_function(t.text, false))
            parse_error("function \"" + t.text + "\" not defined");
          a.kind = Arg::kIdent;
          a.name = t.text;
        }
        break;
      case Tok::kLParen: {
        a.kind = Arg::kPipe;
        a.pipe = std::make_shared<Pipeline>(parse_pipeline());
        if (pos_ >= toks_.size() || toks_[pos_].kind != Tok::kRParen)
          parse_error("unclosed left paren");
        ++pos_;
        // (.X).Y: a field chain straight after the parenthesis.
        if (pos_ < toks_.size() && toks_[pos_].kind == Tok::kField) {
          a.path = split_path(toks_[pos_++].text);
        }
        break;
      }
      default:
        parse_error("unexpected \"" + t.text + "\" in operand");
    }
    return a;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
};

}  // namespace

struct Template::Node {
  enum Kind { kText, kAction, kIf, kRange, kWith } kind = kText;
  std::string text;
  Pipeline pipe;
  std::vector<Node> body, alt;
};

namespace {

using Node = Template::Node;

// One `{{...}}` or the text between them.
struct Item {
  bool action = false;
  std::string text;
};

std::vector<Item> split_items(std::string_view s) {
  std::vector<Item> items;
  size_t i = 0;
  bool trim_next = false;
  while (i < s.size()) {
    size_t open = s.find("{{", i);
    std::string text(s.substr(i, open == s.npos ? s.npos : open - i));
    if (trim_next)
      text.erase(0, text.find_first_not_of(" \t\r\n") == std::string::npos
                        ? text.size()
                        : text.find_first_not_of(" \t\r\n"));
    if (open == s.npos) {
      if (!text.empty()) items.push_back({false, std::move(text)});
      break;
    }
    size_t body = open + 2;
    if (s.size() > body + 1 && s[body] == '-' &&
        std::isspace(static_cast<unsigned char>(s[body + 1]))) {
      size_t keep = text.find_last_not_of(" \t\r\n");
      text.erase(keep == std::string::npos ? 0 : keep + 1);
      body += 2;
    }
    if (!text.empty()) items.push_back({false, std::move(text)});
    // Find the closing braces, skipping quoted strings that may contain them.
    size_t j = body;
    char quote = 0;
    for (; j + 1 < s.size(); ++j) {
      if (quote) {
        if (quote == '"' && s[j] == '\\') {
          ++j;
        } else if (s[j] == quote) {
          quote = 0;
        }
      } else if (s[j] == '"' || s[j] == '`') {
        quote = s[j];
      } else if (s[j] == '}' && s[j + 1] == '}') {
        break;
      }
    }
    if (j + 1 >= s.size()) parse_error("unclosed action");
    size_t end = j;
    trim_next = false;
    if (end >= body + 2 && s[end - 1] == '-' &&
        std::isspace(static_cast<unsigned char>(s[end - 2]))) {
      trim_next = true;
      end -= 2;
    }
    std::string action(s.substr(body, end - body));
    size_t a = action.find_first_not_of(" \t\r\n");
    bool comment = a != std::string::npos && action.compare(a, 2, "/*") == 0;
    if (!comment) items.push_back({true, std::move(action)});
    i = j + 2;
  }
  return items;
}

class TreeBuilder {
 public:
  explicit TreeBuilder(std::vector<Item> items) : items_(std::move(items)) {}

  std::vector<Node> build() {
    std::vector<Node> nodes;
    std::string end = parse_list(nodes);
    if (!end.empty()) parse_error("unexpected {{" + end + "}}");
    return nodes;
  }

 private:
  // Parses nodes up to a closing {{end}} or {{else...}}; returns that keyword's action text
  // (empty at the end of input).
  std::string parse_list(std::vector<Node>& out) {
    while (pos_ < items_.size()) {
      Item& it = items_[pos_++];
      if (!it.action) {
        out.push_back(Node{Node::kText, std::move(it.text), {}, {}, {}});
        continue;
      }
      std::vector<Token> toks = lex(it.text);
      if (toks.empty()) parse_error("missing value for command");
      const std::string kw = toks[0].kind == Tok::kIdent ? toks[0].text : "";
      if (kw == "end" || kw == "else") return it.text;
      if (kw == "if" || kw == "range" || kw == "with") {
        Node n;
        n.kind = kw == "if" ? Node::kIf : kw == "range" ? Node::kRange : Node::kWith;
        toks.erase(toks.begin());
        n.pipe = PipelineParser(std::move(toks)).parse_all();
        parse_branches(n);
        out.push_back(std::move(n));
        continue;
      }
      if (kw == "define" || kw == "template" || kw == "block" || kw == "break" || kw == "continue")
        parse_error("{{" + kw + "}} is not supported");
      Node n;
      n.kind = Node::kAction;
      n.pipe = PipelineParser(std::move(toks)).parse_all();
      out.push_back(std::move(n));
    }
    return "";
  }

  void parse_branches(Node& n) {
    std::string end = parse_list(n.body);
    if (end.empty()) parse_error("unexpected EOF");
    std::vector<Token> toks = lex(end);
    if (toks[0].text == "end") return;
    // {{else}} or {{else if ...}}: the latter nests an if node as the whole else branch.
    if (toks.size() > 1 && toks[1].kind == Tok::kIdent && toks[1].text == "if") {
      Node inner;
      inner.kind = Node::kIf;
      toks.erase(toks.begin(), toks.begin() + 2);
      inner.pipe = PipelineParser(std::move(toks)).parse_all();
      parse_branches(inner);
      n.alt.push_back(std::move(inner));
      return;
    }
    end = parse_list(n.alt);
    if (end.empty() || lex(end)[0].text != "end") parse_error("expected end; found " + end);
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
};

const json& missing() {
  static const json v(json::value_t::discarded);
  return v;
}

class Executor {
 public:
  Executor(const json& root, TemplateOptions opts) : opts_(opts) { vars_.emplace_back("$", root); }

  void walk(const std::vector<Node>& nodes, const json& dot, std::string& out) {
    for (const Node& n : nodes) {
      switch (n.kind) {
        case Node::kText:
          out += n.text;
          break;
        case Node::kAction: {
          json v = eval_pipeline(n.pipe, dot);
          if (n.pipe.decls.empty()) out += go_sprint(v);
          break;
        }
        case Node::kIf:
        case Node::kWith: {
          size_t mark = vars_.size();
          json v = eval_pipeline(n.pipe, dot);
          if (tmpl::truthy(v)) {
            walk(n.body, n.kind == Node::kWith ? v : dot, out);
          } else {
            walk(n.alt, dot, out);
          }
          vars_.resize(mark);
          break;
        }
        case Node::kRange:
          range(n, dot, out);
          break;
      }
    }
  }

 private:
  void range(const Node& n, const json& dot, std::string& out) {
    size_t mark = vars_.size();
    Pipeline p = n.pipe;
    std::vector<std::string> decls = std::move(p.decls);
    p.decls.clear();
    json v = eval_pipeline(p, dot);
    auto iterate = [&](const json& key, const json& elem) {
      if (decls.size() == 1) vars_.emplace_back(decls[0], elem);
      if (decls.size() == 2) {
        vars_.emplace_back(decls[0], key);
        vars_.emplace_back(decls[1], elem);
      }
      walk(n.body, elem, out);
      vars_.resize(mark);
    };
    if (v.is_array() && !v.empty()) {
      for (size_t i = 0; i < v.size(); ++i) iterate(json(i), v[i]);
    } else if (v.is_object() && !v.empty()) {
      for (auto& [k, e] : v.items()) iterate(json(k), e);
    } else if (v.is_null() || v.is_discarded() || v.empty()) {
      walk(n.alt, dot, out);
    } else {
      throw Error("template: range can't iterate over " + go_sprint(v));
    }
  }

  json eval_pipeline(const Pipeline& p, const json& dot) {
    json v;
    bool have = false;
    for (const Command& c : p.cmds) {
      v = eval_command(c, dot, have ? &v : nullptr);
      have = true;
    }
    for (const auto& d : p.decls) vars_.emplace_back(d, v);
    return v;
  }

  json eval_command(const Command& c, const json& dot, const json* final) {
    const Arg& first = c.args[0];
    if (first.kind == Arg::kIdent) {
      std::vector<json> args;
      for (size_t i = 1; i < c.args.size(); ++i) args.push_back(eval_arg(c.args[i], dot));
      if (final) args.push_back(*final);
      return (*tmpl::find_function(first.name, opts_.header))(args);
    }
    if (first.kind == Arg::kField && c.args.size() == 2 && !final) {
      // docker's context methods that take an argument ({{.Label "com.example.x"}}) are
      // objects in the row data, indexed by that argument.
      json obj = eval_arg(first, dot);
      json key = eval_arg(c.args[1], dot);
      if (opts_.header) return obj;
      if (obj.is_object() && key.is_string()) {
        auto it = obj.find(key.get<std::string>());
        return it == obj.end() ? json("") : *it;
      }
    }
    if (c.args.size() > 1 || final) throw Error("template: can't give argument to non-function");
    return eval_arg(first, dot);
  }

  json eval_arg(const Arg& a, const json& dot) {
    switch (a.kind) {
      case Arg::kLiteral:
        return a.literal;
      case Arg::kIdent:
        return (*tmpl::find_function(a.name, opts_.header))({});
      case Arg::kField:
        return follow(dot, a.path);
      case Arg::kVar:
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == a.name) return follow(it->second, a.path);
        throw Error("template: undefined variable: " + a.name);
      case Arg::kPipe:
        return follow(eval_pipeline(*a.pipe, dot), a.path);
    }
    return missing();
  }

  json follow(const json& start, const std::vector<std::string>& path) {
    const json* cur = &start;
    for (const auto& name : path) {
      if (cur->is_object()) {
        auto it = cur->find(name);
        if (it != cur->end()) {
          cur = &*it;
          continue;
        }
        if (opts_.strict) throw Error("template: can't evaluate field " + name);
        return missing();
      }
      if (cur->is_null() || cur->is_discarded()) return missing();
      throw Error("template: can't evaluate field " + name + " in type " +
                  std::string(cur->type_name()));
    }
    return *cur;
  }

  TemplateOptions opts_;
  std::vector<std::pair<std::string, json>> vars_;
};

}  // namespace

Template Template::parse(std::string_view text) {
  Template t;
  t.root_ = std::make_shared<const std::vector<Node>>(TreeBuilder(split_items(text)).build());
  return t;
}

std::string Template::execute(const json& data, TemplateOptions opts) const {
  std::string out;
  Executor(data, opts).walk(*root_, data, out);
  return out;
}

}  // namespace berth::cli
