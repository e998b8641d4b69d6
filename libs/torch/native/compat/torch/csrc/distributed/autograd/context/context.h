// Debian's libtorch-dev ships c10d's reducer.hpp but not the distributed-autograd header
// it includes, of which it needs two type names only: the context (held by pointer) and
// its gradient callback type, which reducer.hpp checks against its own with a static
// assert. These declarations stand in for it; the build reaches this folder only after
// the real include paths (-idirafter), so an install that has the header uses it.
#pragma once
#include <ATen/ATen.h>
#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
