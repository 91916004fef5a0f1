// to_yaml: the user fields of a config (derived ones are recomputed on reading) as block-style YAML
// that from_yaml reads back to an equal config. Doubles are written in their shortest exact form,
// strings plain where that reads back as the same string and double-quoted otherwise.
#include <string>
#include <vector>

#include "detail.h"
#include "yaml_scalars.h"

namespace xlstm {
namespace {

using namespace config_detail;

std::string scalar(bool value) { return value ? "true" : "false"; }
std::string scalar(int64_t value) { return std::to_string(value); }
std::string scalar(double value) { return format_double(value); }
std::string scalar(const std::string& value) { return format_string(value); }
std::string scalar(const std::vector<int64_t>& values) { return format_int_list(values); }

class Writer {
 public:
  template <class C>
  void config(const C& c, size_t indent) {
    visit_fields(c, [&](const char* name, const auto& member, FieldKind kind) {
      if (kind == FieldKind::derived) return;
      out_ += std::string(indent, ' ') + name + ":";
      value(member, indent);
    });
  }
  const std::string& text() const { return out_; }

 private:
  // The value of a key, after "key:": " scalar\n", or "\n" and a nested block indented by two.
  template <class T>
  void value(const T& v, size_t indent) {
    if constexpr (is_optional<T>::value) {
      if (v)
        value(*v, indent);
      else
        out_ += " null\n";
    } else if constexpr (is_named_list<T>::value) {
      if (v.empty()) {
        out_ += " {}\n";
        return;
      }
      out_ += "\n";
      for (const auto& [key, item] : v) {
        out_ += std::string(indent + 2, ' ') + format_string(key) + ":";
        value(item, indent + 2);
      }
    } else if constexpr (is_config<T>::value) {
      out_ += "\n";
      config(v, indent + 2);
    } else {
      out_ += " " + scalar(v) + "\n";
    }
  }

  std::string out_;
};

}  // namespace

template <class C>
std::string to_yaml(const C& config) {
  Writer writer;
  writer.config(config, 0);
  return writer.text();
}

#define XLSTM_INSTANTIATE_WRITE(C) template std::string to_yaml<C>(const C&);
XLSTM_FOR_EACH_CONFIG(XLSTM_INSTANTIATE_WRITE)
#undef XLSTM_INSTANTIATE_WRITE

}  // namespace xlstm
