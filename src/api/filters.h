// Docker's `filters` query parameter: {"key":{"value":true}} or the older {"key":["value"]}.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::api {

class Filters {
 public:
  // Throws InvalidArgument for malformed JSON or a key outside `allowed`, in Docker's words.
  static Filters parse(const std::string& json_text, const std::vector<std::string>& allowed);

  bool has(const std::string& key) const { return values_.count(key) > 0; }
  const std::vector<std::string>& get(const std::string& key) const;
  // True when `key` is absent or one of its values equals `value`.
  bool match(const std::string& key, const std::string& value) const;
  // Labels: each "k" or "k=v" filter value must hold in `labels`.
  bool match_labels(const std::string& key, const std::map<std::string, std::string>& labels) const;
  // Docker's "label!": true when none of `key`'s "k" or "k=v" values holds in `labels`.
  bool match_no_labels(const std::string& key,
                       const std::map<std::string, std::string>& labels) const;
  // Docker's boolean filters ("dangling"): throws for anything but true/false/1/0.
  std::optional<bool> boolean(const std::string& key) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace berth::api
