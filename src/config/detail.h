// Internal helpers shared by the config sources: member-type traits for the generic fields()
// visitors, key-path joining, and the list of config structs every template is instantiated for.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xlstm/config.h"
#include "xlstm/train/experiment_config.h"

namespace xlstm::config_detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// A mapping with free keys (e.g. `subpar: {validation: {...}, validation_long: {...}}`), in file order.
template <class T>
struct is_named_list : std::false_type {};
template <class T>
struct is_named_list<std::vector<std::pair<std::string, T>>> : std::true_type {};

// A config struct is a type with a fields(visitor) member.
struct AnyFieldVisitor {
  template <class M>
  void operator()(const char*, M&, FieldKind) const {}
};
template <class T, class = void>
struct is_config : std::false_type {};
template <class T>
struct is_config<T, std::void_t<decltype(std::declval<T&>().fields(AnyFieldVisitor{}))>> : std::true_type {};

// fields() on a const config, for visitors that only read the members.
template <class C, class V>
void visit_fields(const C& config, V&& visitor) {
  const_cast<C&>(config).fields(std::forward<V>(visitor));
}

// "mlstm_block" + "mlstm" -> "mlstm_block.mlstm"; an empty prefix is the top level.
inline std::string join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

}  // namespace xlstm::config_detail

#define XLSTM_FOR_EACH_CONFIG(X) \
  X(mLSTMLayerConfig)            \
  X(mLSTMBlockConfig)            \
  X(sLSTMLayerConfig)            \
  X(FeedForwardConfig)           \
  X(sLSTMBlockConfig)            \
  X(xLSTMBlockStackConfig)       \
  X(xLSTMLMModelConfig)          \
  X(xLSTMLargeConfig)            \
  X(data::FormLangDatasetConfig) \
  X(data::MQARDatasetConfig)     \
  X(data::TokenFilesConfig)      \
  X(train::TrainingConfig)       \
  X(train::FormLangExperimentConfig) \
  X(train::MQARExperimentConfig) \
  X(train::LMExperimentConfig)
