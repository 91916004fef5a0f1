// MQARDatasetConfig: the generator parameters of each split part and validate().
#include "xlstm/data/mqar.h"

namespace xlstm::data {

MQARParams MQARDatasetConfig::params(const std::string& part) const {
  MQARParams p{vocab_size, input_seq_len, num_kv_pairs, power_a, random_non_queries};
  if (const MQAROverrides* o = find_part(subpar, part)) {
    if (o->input_seq_len) p.input_seq_len = *o->input_seq_len;
    if (o->num_kv_pairs) p.num_kv_pairs = *o->num_kv_pairs;
    if (o->power_a) p.power_a = *o->power_a;
  }
  return p;
}

void MQARDatasetConfig::validate(const std::string& path) const {
  validate_splits(path, count, part_names(subpar));
  for (const auto& part : split_parts()) {
    const auto path_of = [&](const std::string& field) { return part_field_path(path, subpar, part, field); };
    check_mqar_params(params(part), path_of);
  }
}

}  // namespace xlstm::data
