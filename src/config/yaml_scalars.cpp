// YAML 1.2 core-schema scalar resolution, number parsing/formatting and string quoting.
#include "yaml_scalars.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <locale>
#include <sstream>

namespace xlstm::config_detail {
namespace {

// Hand-written matchers (std::regex recurses per character and overflows the stack on long input).
size_t skip_while(const std::string& t, size_t i, int (*pred)(int)) {
  while (i < t.size() && pred(static_cast<unsigned char>(t[i]))) ++i;
  return i;
}
size_t skip_sign(const std::string& t, size_t i) { return i < t.size() && (t[i] == '+' || t[i] == '-') ? i + 1 : i; }
int is_decimal_digit(int c) { return c >= '0' && c <= '9'; }
int is_octal_digit(int c) { return c >= '0' && c <= '7'; }
int is_hex_digit(int c) { return is_decimal_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// prefix followed by one or more digits accepted by pred, and nothing else.
bool is_prefixed_digits(const std::string& t, const char* prefix, int (*pred)(int)) {
  const std::string p = prefix;
  return t.size() > p.size() && t.compare(0, p.size(), p) == 0 && skip_while(t, p.size(), pred) == t.size();
}

bool is_null_text(const std::string& t) { return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL"; }
// [-+]?[0-9]+
bool is_decimal_int(const std::string& t) {
  const size_t digits = skip_sign(t, 0);
  return t.size() > digits && skip_while(t, digits, is_decimal_digit) == t.size();
}
bool is_octal_int(const std::string& t) { return is_prefixed_digits(t, "0o", is_octal_digit); }
bool is_hex_int(const std::string& t) { return is_prefixed_digits(t, "0x", is_hex_digit); }
// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_finite_float(const std::string& t) {
  size_t i = skip_sign(t, 0);
  const size_t int_start = i;
  i = skip_while(t, i, is_decimal_digit);
  const bool has_int = i > int_start;
  bool has_fraction = false;
  if (i < t.size() && t[i] == '.') {
    const size_t fraction_start = ++i;
    i = skip_while(t, i, is_decimal_digit);
    has_fraction = i > fraction_start;
  }
  if (!has_int && !has_fraction) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    const size_t exponent_start = skip_sign(t, i + 1);
    i = skip_while(t, exponent_start, is_decimal_digit);
    if (i == exponent_start) return false;
  }
  return i == t.size();
}
bool is_inf(const std::string& t) {
  const std::string rest = t.substr(skip_sign(t, 0));
  return rest == ".inf" || rest == ".Inf" || rest == ".INF";
}
int is_plain_safe_char(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_decimal_digit(c) || (c != 0 && std::strchr("_.^+/-", c));
}
// Strings the writer can leave unquoted: identifier-like, no YAML indicator characters.
bool is_plain_safe(const std::string& t) {
  return !t.empty() && !is_decimal_digit(t[0]) && !std::strchr(".^+/-", t[0]) &&
         skip_while(t, 0, is_plain_safe_char) == t.size();
}
bool is_nan(const std::string& t) { return t == ".nan" || t == ".NaN" || t == ".NAN"; }

std::optional<double> read_double(const std::string& text) {
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  double value = 0.0;
  in >> value;
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  return value;
}

}  // namespace

PlainKind resolve_plain(const std::string& text) {
  if (is_null_text(text)) return PlainKind::null;
  if (parse_bool(text)) return PlainKind::boolean;
  if (is_decimal_int(text) || is_octal_int(text) || is_hex_int(text)) return PlainKind::integer;
  if (is_finite_float(text) || is_inf(text) || is_nan(text)) return PlainKind::floating;
  return PlainKind::string;
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

bool is_yaml11_bool(const std::string& text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "yes" || lower == "no" || lower == "on" || lower == "off" || lower == "y" || lower == "n";
}

std::optional<int64_t> parse_int(const std::string& text) {
  int base = 10;
  size_t start = 0;
  bool negative = false;
  if (is_hex_int(text) || is_octal_int(text)) {
    base = text[1] == 'x' ? 16 : 8;
    start = 2;
  } else if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    start = 1;
  }
  // Parse the magnitude with the sign attached, so that INT64_MIN fits.
  std::string digits = (negative ? "-" : "") + text.substr(start);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(const std::string& text) {
  if (is_inf(text)) return text[0] == '-' ? -HUGE_VAL : HUGE_VAL;
  if (is_nan(text)) return std::nan("");
  if (is_hex_int(text) || is_octal_int(text)) {
    const auto value = parse_int(text);
    if (!value) return std::nullopt;
    return static_cast<double>(*value);
  }
  return read_double(text);
}

std::string format_double(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value < 0 ? "-.inf" : ".inf";
  // Shortest scientific form d.ddde±XX that reads back exactly.
  std::string scientific;
  for (int precision = 0; precision <= 16; ++precision) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out << std::scientific << std::setprecision(precision) << std::fabs(value);
    scientific = out.str();
    if (read_double(scientific) == std::fabs(value)) break;
  }
  const size_t e_pos = scientific.find('e');
  std::string digits = scientific.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(scientific.substr(e_pos + 1));
  // Laid out as Python's repr does: fixed notation for 1e-4 <= |value| < 1e16, else an exponent.
  std::string text = std::signbit(value) ? "-" : "";
  if (exponent >= 16 || exponent < -4) {
    const std::string fraction = digits.size() > 1 ? digits.substr(1) : "0";
    const std::string magnitude = std::to_string(std::abs(exponent));
    return text + digits[0] + "." + fraction + "e" + (exponent < 0 ? "-" : "+") +
           (magnitude.size() < 2 ? "0" : "") + magnitude;
  }
  if (exponent < 0) return text + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  const size_t int_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= int_digits) return text + digits + std::string(int_digits - digits.size(), '0') + ".0";
  return text + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

std::string format_int_list(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

std::string quote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string format_string(const std::string& text) {
  const bool plain = is_plain_safe(text) && resolve_plain(text) == PlainKind::string &&
                     !is_yaml11_bool(text);
  return plain ? text : quote(text);
}

std::string shorten(const std::string& text) {
  constexpr size_t kMaxShown = 80;
  return text.size() <= kMaxShown ? text : text.substr(0, kMaxShown) + "...";
}

std::string show(const std::string& text) {
  const std::string shown = shorten(text);
  return shown.size() == text.size() ? quote(text) : quote(text.substr(0, shown.size() - 3)) + "...";
}

std::string show(double value) { return format_double(value); }

std::string show(int64_t value) { return std::to_string(value); }

std::string show(const std::vector<int64_t>& values) {
  constexpr size_t kMaxShown = 16;
  if (values.size() <= kMaxShown) return format_int_list(values);
  const std::vector<int64_t> head(values.begin(), values.begin() + kMaxShown);
  const std::string shown = format_int_list(head);
  return shown.substr(0, shown.size() - 1) + ", ...]";
}

}  // namespace xlstm::config_detail
