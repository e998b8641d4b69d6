// A JS object owning one at::Tensor. Memory is released when JS calls dispose() (the
// TypeScript scopes do this deterministically); the GC finaliser is only a safety net,
// and it is counted separately so leaks show up in tests.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <atomic>

namespace sere {

struct Counters {
  std::atomic<int64_t> live{0};      // handles holding a tensor right now
  std::atomic<int64_t> created{0};
  std::atomic<int64_t> finalised{0}; // released by the GC instead of dispose()
};
Counters& counters();

// Per-environment state: each Node worker thread that loads the addon gets its own.
struct AddonData {
  Napi::FunctionReference tensor_ctor;
};

const char* dtype_name(at::ScalarType t);
at::ScalarType parse_dtype(const std::string& name);

class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, at::Tensor t);
  static bool IsHandle(Napi::Env env, const Napi::Value& v);
  // Throws a JS TypeError naming `what` if v is not a live tensor handle.
  static at::Tensor& Get(const Napi::Value& v, const char* what);

  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;
  void Finalize(Napi::Env env) override;

  at::Tensor tensor;
  bool held = false;

 private:
  using Method = Napi::Value (TensorHandle::*)(const Napi::CallbackInfo&);
  struct MethodEntry {
    const char* name;
    Method method;
  };
  // Every JS method goes through here: it runs the MethodEntry in info.Data() inside
  // `guarded`, so a libtorch error in any method is a JS Error naming the method.
  Napi::Value Guarded(const Napi::CallbackInfo& info);

  void release();
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value Dtype(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value RequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value Grad(const Napi::CallbackInfo& info);
  Napi::Value SetGrad(const Napi::CallbackInfo& info);
  Napi::Value Backward(const Napi::CallbackInfo& info);
  Napi::Value ToBuffer(const Napi::CallbackInfo& info);
  Napi::Value Item(const Napi::CallbackInfo& info);
  Napi::Value Numel(const Napi::CallbackInfo& info);
  Napi::Value DataPtr(const Napi::CallbackInfo& info);
  Napi::Value IsContiguous(const Napi::CallbackInfo& info);
};

}  // namespace sere
