#include "api/filters.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace berth::api {

Filters Filters::parse(const std::string& text, const std::vector<std::string>& allowed) {
  Filters f;
  if (text.empty()) return f;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("invalid filter: ") + e.what());
  }
  if (!j.is_object()) throw InvalidArgument("invalid filter: expected an object");
  for (auto& [key, v] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw InvalidArgument("invalid filter '" + key + "'");
    auto& out = f.values_[key];
    if (v.is_object()) {
      for (auto& [value, on] : v.items())
        if (!on.is_boolean() || on.get<bool>()) out.push_back(value);
    } else if (v.is_array()) {
      for (auto& value : v) {
        if (!value.is_string()) throw InvalidArgument("invalid filter '" + key + "'");
        out.push_back(value.get<std::string>());
      }
    } else {
      throw InvalidArgument("invalid filter '" + key + "'");
    }
  }
  return f;
}

const std::vector<std::string>& Filters::get(const std::string& key) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(key);
  return it == values_.end() ? kNone : it->second;
}

bool Filters::match(const std::string& key, const std::string& value) const {
  auto it = values_.find(key);
  if (it == values_.end()) return true;
  return std::find(it->second.begin(), it->second.end(), value) != it->second.end();
}

bool Filters::match_labels(const std::string& key,
                           const std::map<std::string, std::string>& labels) const {
  for (auto& want : get(key)) {
    auto eq = want.find('=');
    auto it = labels.find(want.substr(0, eq));
    if (it == labels.end()) return false;
    if (eq != std::string::npos && it->second != want.substr(eq + 1)) return false;
  }
  return true;
}

bool Filters::match_no_labels(const std::string& key,
                              const std::map<std::string, std::string>& labels) const {
  if (!has(key)) return true;
  for (auto& unwanted : get(key)) {
    auto eq = unwanted.find('=');
    auto it = labels.find(unwanted.substr(0, eq));
    if (it != labels.end() && (eq == std::string::npos || it->second == unwanted.substr(eq + 1)))
      return false;
  }
  return true;
}

std::optional<bool> Filters::boolean(const std::string& key) const {
  auto& v = get(key);
  if (v.empty()) return std::nullopt;
  const std::string& s = v.back();
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  throw InvalidArgument("Invalid filter '" + key + "=" + s + "'");
}

}  // namespace berth::api
