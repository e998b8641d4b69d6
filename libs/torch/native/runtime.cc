// Process-wide controls: creation from JS memory, autograd mode, seeds and generator
// state, threads, autocast, CUDA queries and the live-tensor counters.
#include "runtime.h"
#include "errors.h"
#include "tensor_handle.h"
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <ATen/Parallel.h>
#include <torch/version.h>
#include <cstring>
#include <torch/cuda.h>
// Memory statistics and device names need the CUDA runtime headers; everything else
// works through libtorch's device-generic hooks.
#ifdef SERE_CUDA_HEADERS
#include <c10/cuda/CUDACachingAllocator.h>
#include <ATen/cuda/CUDAContext.h>
#endif

namespace sere {

Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() && !info[0].IsArrayBuffer()) throw std::invalid_argument("expected a typed array or ArrayBuffer");
  const uint8_t* data;
  size_t bytes;
  if (info[0].IsTypedArray()) {
    auto ta = info[0].As<Napi::TypedArray>();
    data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    bytes = ta.ByteLength();
  } else {
    auto ab = info[0].As<Napi::ArrayBuffer>();
    data = static_cast<const uint8_t*>(ab.Data());
    bytes = ab.ByteLength();
  }
  auto shape_js = info[1].As<Napi::Array>();
  std::vector<int64_t> shape(shape_js.Length());
  int64_t numel = 1;
  for (uint32_t i = 0; i < shape_js.Length(); i++) {
    shape[i] = shape_js.Get(i).As<Napi::Number>().Int64Value();
    if (shape[i] < 0) throw std::invalid_argument("negative dimension in shape");
    numel *= shape[i];
  }
  at::ScalarType dtype = parse_dtype(info[2].ToString().Utf8Value());
  size_t need = size_t(numel) * c10::elementSize(dtype);
  if (need != bytes)
    throw std::invalid_argument("buffer holds " + std::to_string(bytes) + " bytes but shape " + c10::str(c10::IntArrayRef(shape)) + " of " +
                                dtype_name(dtype) + " needs " + std::to_string(need));
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (bytes) std::memcpy(t.data_ptr(), data, bytes);
  if (info.Length() > 3 && info[3].IsString()) {
    c10::Device dev(info[3].ToString().Utf8Value());
    if (!dev.is_cpu()) t = t.to(dev);
  }
  return TensorHandle::Wrap(env, t);
}

Napi::Value Counts(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("live", double(counters().live.load()));
  o.Set("created", double(counters().created.load()));
  o.Set("finalised", double(counters().finalised.load()));
  return o;
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(info[0].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), prev);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  at::manual_seed(uint64_t(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

// Generator state of a device's default generator as a uint8 tensor, for exact resume.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  c10::Device dev(info[0].ToString().Utf8Value());
  auto gen = at::globalContext().defaultGenerator(dev);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return TensorHandle::Wrap(info.Env(), gen.get_state());
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  c10::Device dev(info[0].ToString().Utf8Value());
  auto gen = at::globalContext().defaultGenerator(dev);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(TensorHandle::Get(info[1], "setRngState"));
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  at::set_num_threads(int(info[0].As<Napi::Number>().Int32Value()));
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

// setAutocast(enabled, dtype): CUDA autocast with fp16 or bf16, like torch.autocast('cuda').
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  bool on = info[0].ToBoolean().Value();
  at::ScalarType dt = info.Length() > 1 && info[1].IsString() ? parse_dtype(info[1].ToString().Utf8Value()) : at::kHalf;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, on);
  at::autocast::set_autocast_dtype(at::kCUDA, dt);
#else
  at::autocast::set_enabled(on);
  at::autocast::set_autocast_gpu_dtype(dt);
#endif
  if (!on) at::autocast::clear_cache();
  return info.Env().Undefined();
}

// TF32 tensor-core maths for fp32 matmuls and convolutions (CUDA only). Parity checks turn
// it off: TF32 rounds inputs to 10 mantissa bits.
Napi::Value SetAllowTF32(const Napi::CallbackInfo& info) {
  bool on = info[0].ToBoolean().Value();
  at::globalContext().setAllowTF32CuBLAS(on);
  at::globalContext().setAllowTF32CuDNN(on);
  return info.Env().Undefined();
}

Napi::Value ClearAutocastCache(const Napi::CallbackInfo& info) {
  at::autocast::clear_cache();
  return info.Env().Undefined();
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("torch", TORCH_VERSION);
#ifdef SERE_WITH_CUDA
  o.Set("cudaBuild", true);
#else
  o.Set("cudaBuild", false);
#endif
  o.Set("cudaDevices", double(torch::cuda::device_count()));
  o.Set("threads", double(at::get_num_threads()));
  o.Set("parallelInfo", at::get_parallel_info());
  return o;
}

Napi::Value CudaDeviceName(const Napi::CallbackInfo& info) {
#ifdef SERE_CUDA_HEADERS
  return guarded(info.Env(), "cudaDeviceName", [&]() -> Napi::Value {
    auto* p = at::cuda::getDeviceProperties(info[0].As<Napi::Number>().Int32Value());
    return Napi::String::New(info.Env(), p->name);
  });
#else
  return info.Env().Null();
#endif
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  if (torch::cuda::device_count() > 0) torch::cuda::synchronize();
  return info.Env().Undefined();
}

// {allocated, peak, reserved} bytes of the CUDA caching allocator; null without CUDA.
Napi::Value CudaMemory(const Napi::CallbackInfo& info) {
#ifdef SERE_CUDA_HEADERS
  return guarded(info.Env(), "cudaMemory", [&]() -> Napi::Value {
    int dev = info.Length() > 0 ? info[0].As<Napi::Number>().Int32Value() : 0;
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(dev);
    auto o = Napi::Object::New(info.Env());
    o.Set("allocated", double(stats.allocated_bytes[0].current));
    o.Set("peak", double(stats.allocated_bytes[0].peak));
    o.Set("reserved", double(stats.reserved_bytes[0].current));
    if (info.Length() > 1 && info[1].ToBoolean().Value()) c10::cuda::CUDACachingAllocator::resetPeakStats(dev);
    return o;
  });
#else
  return info.Env().Null();
#endif
}

// Returns cached, unused blocks of the CUDA caching allocator to the driver (so another
// process, e.g. a reference run, can use them).
Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
#ifdef SERE_CUDA_HEADERS
  c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  return info.Env().Undefined();
}

}  // namespace sere
