// The template's built-in functions, shared by the parser (to reject unknown names early, as
// Go does) and the executor.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::cli::tmpl {

using Func = std::function<nlohmann::json(const std::vector<nlohmann::json>&)>;

// nullptr when `name` is not a function; header mode swaps in docker's pass-through set.
const Func* find_function(const std::string& name, bool header);
bool truthy(const nlohmann::json& v);
std::string go_printf(const std::string& fmt, const std::vector<nlohmann::json>& args);

}  // namespace berth::cli::tmpl
