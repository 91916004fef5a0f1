// GradientReducer: bucket layout, the post-accumulate-grad hooks that fill buckets during backward,
// asynchronous all-reduces started in bucket order, and the averaged gradients written back.
#include "xlstm/train/gradient_reducer.h"

#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <map>

#include "distributed_impl.h"

namespace xlstm::train {

struct GradientReducer::State {
  struct Bucket {
    torch::Tensor flat;          // the gradients of its parameters, one after the other
    std::vector<size_t> params;  // indices into `params`
    int64_t numel = 0;
    size_t pending = 0;          // parameters whose gradient is not in `flat` yet
    c10::intrusive_ptr<c10d::Work> work;
  };
  struct Slot {
    size_t bucket = 0;
    int64_t offset = 0;
    bool ready = false;
  };

  c10d::Backend* backend = nullptr;
  int world_size = 1;
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  size_t next_launch = 0;  // buckets [0, next_launch) have started their all-reduce
  bool armed = false;      // between prepare() and finish()

  torch::Tensor slice(size_t i) {
    return buckets[slots[i].bucket].flat.narrow(0, slots[i].offset, params[i].numel());
  }

  // Parameter i's gradient is final: into its bucket, and start every bucket that is complete and
  // next in order.
  void ready(size_t i) {
    Slot& slot = slots[i];
    if (slot.ready)
      throw DistributedError("parameter " + names[i] +
                             " received a second gradient before GradientReducer::finish (one backward pass per step)");
    const torch::Tensor& grad = params[i].grad();
    if (!grad.defined())
      throw DistributedError("parameter " + names[i] + " has no gradient after the backward pass of rank " +
                             std::to_string(backend->getRank()) +
                             ": data-parallel training needs every parameter in every step");
    slice(i).copy_(grad.reshape({-1}));
    slot.ready = true;
    --buckets[slot.bucket].pending;
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) {
      std::vector<torch::Tensor> tensors{buckets[next_launch].flat};
      buckets[next_launch].work = backend->allreduce(tensors);
      ++next_launch;
    }
  }
};

namespace {

struct ReadyHook : torch::autograd::PostAccumulateGradHook {
  ReadyHook(GradientReducer::State* state, size_t index) : state(state), index(index) {}
  void operator()(const torch::autograd::Variable&) override {
    if (state->armed) state->ready(index);
  }
  GradientReducer::State* state;
  size_t index;
};

}  // namespace

GradientReducer::GradientReducer(std::shared_ptr<DistributedContext> context,
                                 const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                                 GradientReducerOptions options)
    : context_(std::move(context)), s_(std::make_unique<State>()) {
  State& s = *s_;
  s.backend = context_->impl().backend.get();
  s.world_size = context_->world_size();
  for (const auto& [name, p] : parameters)
    if (p.requires_grad()) s.names.push_back(name), s.params.push_back(p);
  s.slots.resize(s.params.size());

  // Reverse parameter order, one open bucket per dtype, closed once it holds bucket_bytes.
  std::map<torch::ScalarType, size_t> open;
  for (size_t i = s.params.size(); i-- > 0;) {
    const torch::Tensor& p = s.params[i];
    auto it = open.find(p.scalar_type());
    if (it == open.end()) {
      s.buckets.emplace_back();
      it = open.emplace(p.scalar_type(), s.buckets.size() - 1).first;
    }
    State::Bucket& bucket = s.buckets[it->second];
    s.slots[i] = {it->second, bucket.numel, false};
    bucket.params.push_back(i);
    bucket.numel += p.numel();
    if (bucket.numel * static_cast<int64_t>(p.element_size()) >= options.bucket_bytes) open.erase(it);
  }
  for (auto& bucket : s.buckets) {
    const torch::Tensor& first = s.params[bucket.params.front()];
    bucket.flat = torch::empty({bucket.numel}, first.options().requires_grad(false));
  }
  if (options.overlap)
    for (size_t i = 0; i < s.params.size(); ++i)
      torch::autograd::impl::set_post_acc_grad_hooks(s.params[i], std::make_unique<ReadyHook>(&s, i));
}

GradientReducer::~GradientReducer() {
  for (const auto& p : s_->params) torch::autograd::impl::set_post_acc_grad_hooks(p, nullptr);
}

int64_t GradientReducer::bucket_count() const { return static_cast<int64_t>(s_->buckets.size()); }

void GradientReducer::prepare() {
  State& s = *s_;
  for (auto& slot : s.slots) slot.ready = false;
  for (auto& bucket : s.buckets) bucket.pending = bucket.params.size(), bucket.work.reset();
  s.next_launch = 0;
  s.armed = true;
}

void GradientReducer::finish() {
  State& s = *s_;
  s.armed = false;
  torch::NoGradGuard no_grad;
  // Without hooks (or for gradients that did not pass through one), the buckets fill here.
  for (size_t i = 0; i < s.params.size(); ++i)
    if (!s.slots[i].ready) s.ready(i);
  for (auto& bucket : s.buckets) {
    wait_for(bucket.work, "gradient all-reduce");
    bucket.work.reset();
    bucket.flat.div_(s.world_size);
  }
  for (size_t i = 0; i < s.params.size(); ++i) s.params[i].mutable_grad().copy_(s.slice(i).view_as(s.params[i]));
}

}  // namespace xlstm::train
