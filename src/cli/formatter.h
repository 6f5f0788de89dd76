// docker's --format handling for lists: "table" (default columns), "table TEMPLATE", "json"
// and a bare TEMPLATE; tables get a header row and Go tabwriter alignment.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::cli {

struct ListFormat {
  std::string format;         // the user's --format ("" means the default table)
  std::string default_table;  // e.g. "table {{.Repository}}\t{{.Tag}}"
  nlohmann::json headers;     // field name -> column header
};

// Renders one line per row. Fields missing from a row are an error, as with docker's typed
// contexts. Throws berth::Error on a bad template.
std::string render_list(const ListFormat& f, const std::vector<nlohmann::json>& rows);
// Renders a template once per value (inspect -f, version/info --format), a newline after each.
std::string render_each(const std::string& format, const std::vector<nlohmann::json>& values,
                        bool strict = false);
// Replaces the literal two-character escapes \t and \n, as docker does for --format.
std::string unescape_format(std::string s);

}  // namespace berth::cli
