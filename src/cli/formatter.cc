#include "cli/formatter.h"

#include "cli/tabwriter.h"
#include "cli/template.h"

namespace berth::cli {

std::string unescape_format(std::string s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 't' || s[i + 1] == 'n')) {
      out += s[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

namespace {

std::string trim_spaces(const std::string& s) {
  size_t a = s.find_first_not_of(' ');
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(' ') - a + 1);
}

}  // namespace

std::string render_list(const ListFormat& f, const std::vector<nlohmann::json>& rows) {
  std::string format = f.format.empty() || f.format == "table" ? f.default_table : f.format;
  if (format == "json") format = "{{json .}}";
  bool table = format.rfind("table", 0) == 0;
  if (table) format = format.substr(5);
  Template tmpl = Template::parse(unescape_format(trim_spaces(format)));
  std::string body;
  for (const auto& row : rows) body += tmpl.execute(row, {.header = false, .strict = true}) + "\n";
  if (!table) return body;
  std::string text = tmpl.execute(f.headers, {.header = true, .strict = false}) + "\n" + body;
  // The same writer settings as docker's formatter: minwidth 10, padding 3.
  return tabwrite(text, {.minwidth = 10, .padding = 3});
}

std::string render_each(const std::string& format, const std::vector<nlohmann::json>& values,
                        bool strict) {
  Template tmpl = Template::parse(unescape_format(format));
  std::string out;
  for (const auto& v : values) out += tmpl.execute(v, {.header = false, .strict = strict}) + "\n";
  return out;
}

}  // namespace berth::cli
