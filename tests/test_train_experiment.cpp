// A shipped quick config run end to end in-process (run_experiment), shortened for CI: the train loss
// falls and the final table lists the validation split.
#include <gtest/gtest.h>

#include <sstream>

#include "temp_dir.h"
#include "testing.h"
#include "xlstm/train/experiment.h"

namespace {

using namespace xlstm;

TEST(TrainExperiment, QuickParityConfigLearns) {
  xlstm::testing::TempDir tmp;
  const auto config = from_yaml_file<train::FormLangExperimentConfig>(
      xlstm::testing::source_path("configs/parity_xlstm01_quick.yaml"),
      {"training.num_steps=300", "training.log_every_step=50", "training.val_every_step=0",
       "dataset.kwargs.count.validation=256", "dataset.kwargs.count.test=0"});
  std::ostringstream out;
  const auto result = train::run_experiment(config, {tmp.file("run"), false, false, ""}, out);
  EXPECT_EQ(result.steps, 300);
  EXPECT_LT(result.last_loss, 0.7 * result.first_loss) << out.str();
  ASSERT_EQ(result.final_results.size(), 1u);
  EXPECT_EQ(result.final_results[0].name, "validation");
  EXPECT_NE(out.str().find("| validation | parity, lengths 12-40 | 256 |"), std::string::npos) << out.str();
  EXPECT_NE(xlstm::testing::read_bytes(tmp.file("run/results.md")).find("| split | data |"), std::string::npos);
}

}  // namespace
