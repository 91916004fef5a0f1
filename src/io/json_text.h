// JSON helpers of the checkpoint readers (safetensors headers, config.json, index files): parsing
// that refuses duplicate keys, and values and names as error messages show them. Header-only and
// free of LibTorch, so that the fuzzed safetensors core can use it.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace xlstm::io::json_text {

using json = nlohmann::json;

// Raised by parse_strict; what() reads "is not valid JSON: ..." or "has the key "k" more than once",
// to be prefixed with what was parsed ("header ", "<file> ").
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A JSON string literal for a name in a message (escaped, at most ~80 characters).
inline std::string quote(const std::string& s) {
  std::string q = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  if (q.size() > 80) q = q.substr(0, 76) + "...\"";
  return q;
}

// A short rendering of a JSON value for a message; large or nested containers are only described.
inline std::string show(const json& v) {
  if (v.is_structured()) {
    const char* kind = v.is_array() ? "an array" : "an object";
    bool nested = v.size() > 16;
    for (const auto& child : v) nested = nested || child.is_structured();
    if (nested) return std::string(kind) + " of " + std::to_string(v.size()) + " elements";
  }
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// Parses [begin, end), rejecting duplicate keys at any depth (nlohmann and Python's json would
// silently keep the last one).
template <class It>
json parse_strict(It begin, It end) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty()) {
      if (!open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json value;
  try {
    value = json::parse(begin, end, callback);
  } catch (const json::exception& e) {
    throw ParseError(std::string("is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) throw ParseError("has the key " + quote(duplicate) + " more than once");
  return value;
}

}  // namespace xlstm::io::json_text
