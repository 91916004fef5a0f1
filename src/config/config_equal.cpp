// config_equal: member-wise equality of two configs of one type, derived fields included (both
// sides are expected to have been through post_init(), as every config from from_yaml has).
#include <vector>

#include "detail.h"

namespace xlstm {
namespace {

using namespace config_detail;

template <class T>
bool value_equal(const T& a, const T& b) {
  if constexpr (is_optional<T>::value) {
    return a.has_value() == b.has_value() && (!a || value_equal(*a, *b));
  } else if constexpr (is_named_list<T>::value) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].first != b[i].first || !value_equal(a[i].second, b[i].second)) return false;
    return true;
  } else if constexpr (is_config<T>::value) {
    return config_equal(a, b);
  } else {
    return a == b;
  }
}

}  // namespace

template <class C>
bool config_equal(const C& a, const C& b) {
  // fields() lists the members of both in the same order: remember a's, then walk b's alongside.
  std::vector<const void*> members_of_a;
  visit_fields(a, [&](const char*, const auto& member, FieldKind) { members_of_a.push_back(&member); });
  size_t index = 0;
  bool equal = true;
  visit_fields(b, [&](const char*, const auto& member, FieldKind) {
    using T = std::decay_t<decltype(member)>;
    equal = equal && value_equal(*static_cast<const T*>(members_of_a[index]), member);
    ++index;
  });
  return equal;
}

#define XLSTM_INSTANTIATE_EQUAL(C) template bool config_equal<C>(const C&, const C&);
XLSTM_FOR_EACH_CONFIG(XLSTM_INSTANTIATE_EQUAL)
#undef XLSTM_INSTANTIATE_EQUAL

}  // namespace xlstm
