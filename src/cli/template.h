// A Go text/template subset, enough for the --format strings people write for docker:
// {{.A.B}}, pipelines, parenthesised calls, variables, {{if}}/{{else if}}/{{else}},
// {{range}} (with $i, $v :=), {{with}}, trim markers {{- -}}, comments, and the functions
// docker registers (json, join, split, upper, lower, title, pad, truncate) plus Go's
// builtins (index, len, printf, print, println, eq, ne, lt, le, gt, ge, and, or, not).
// Data is JSON; values print as Go's fmt does: [a b] for arrays, map[k:v] for objects.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace berth::cli {

struct TemplateOptions {
  // Docker renders a table's header by running the row template on a map of column names,
  // with the formatting functions made pass-through (json yields "").
  bool header = false;
  // A field missing from an object is an error (docker's typed contexts) instead of
  // printing "<no value>" (inspect of raw JSON).
  bool strict = false;
};

class Template {
 public:
  // Throws berth::Error("template parsing error: ...") on bad syntax or unknown functions.
  static Template parse(std::string_view text);
  // Throws berth::Error("template: ...") when a value cannot be evaluated.
  std::string execute(const nlohmann::json& data, TemplateOptions opts = {}) const;

  struct Node;

 private:
  std::shared_ptr<const std::vector<Node>> root_;
};

// A value printed as Go's fmt.Sprint prints what encoding/json decoded.
std::string go_sprint(const nlohmann::json& v);

}  // namespace berth::cli
