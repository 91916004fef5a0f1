// YAML 1.2 core-schema scalars: how a plain (unquoted) scalar resolves, locale-independent number
// parsing and formatting, and string quoting. Shared by the reader, the writer and the messages of
// ConfigError, so that a value reads the same in a file and in an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xlstm::config_detail {

enum class PlainKind { null, boolean, integer, floating, string };

// What a plain scalar means under the YAML 1.2 core schema (`yes`, `on`, `1_000` are strings).
PlainKind resolve_plain(const std::string& text);
// true/True/TRUE/false/False/FALSE; nullopt for anything else.
std::optional<bool> parse_bool(const std::string& text);
// YAML 1.1 booleans that YAML 1.2 reads as strings (yes, no, on, off, y, n in any case).
bool is_yaml11_bool(const std::string& text);
// An integer scalar (decimal, 0x hex, 0o octal); nullopt if it does not fit int64.
std::optional<int64_t> parse_int(const std::string& text);
// An integer or float scalar; nullopt if out of the double range. May return inf/nan for .inf/.nan.
std::optional<double> parse_number(const std::string& text);

// The shortest decimal that reads back to exactly `value`, always with a '.' (2.0, 1.3, 1.0e-06),
// so that YAML 1.1 readers (PyYAML) see a float too.
std::string format_double(double value);
// `text` as a YAML scalar: plain where it reads back as this string, else double-quoted.
std::string format_string(const std::string& text);
// [1, 2, 3] (flow style).
std::string format_int_list(const std::vector<int64_t>& values);
// `text` double-quoted with YAML escapes.
std::string quote(const std::string& text);

// Values as error messages show them: strings quoted, numbers as in YAML, long ones shortened.
std::string shorten(const std::string& text);  // the first 80 characters and "..."
std::string show(const std::string& text);
std::string show(double value);
std::string show(int64_t value);
std::string show(const std::vector<int64_t>& values);  // long lists shortened

}  // namespace xlstm::config_detail
