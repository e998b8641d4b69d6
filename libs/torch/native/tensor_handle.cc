#include "tensor_handle.h"
#include "errors.h"
#include <cstring>
#include <sstream>
#include <vector>

namespace sere {

Counters& counters() {
  static Counters c;
  return c;
}

const char* dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return "unsupported";
  }
}

at::ScalarType parse_dtype(const std::string& n) {
  if (n == "float32") return at::kFloat;
  if (n == "float64") return at::kDouble;
  if (n == "float16") return at::kHalf;
  if (n == "bfloat16") return at::kBFloat16;
  if (n == "int64") return at::kLong;
  if (n == "int32") return at::kInt;
  if (n == "int16") return at::kShort;
  if (n == "int8") return at::kChar;
  if (n == "uint8") return at::kByte;
  if (n == "bool") return at::kBool;
  throw std::invalid_argument("unknown dtype '" + n +
                              "' (expected float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 or bool)");
}

std::string describe_tensor(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream s;
  try {
    s << dtype_name(t.scalar_type());
    if (t.is_nested()) s << "[nested]";
    else s << t.sizes();
    if (t.layout() != at::kStrided) s << "(" << t.layout() << ")";
    if (!t.device().is_cpu()) s << "@" << t.device();
  } catch (...) {
    s << "[?]";  // a tensor kind without sizes that the checks above do not know
  }
  return s.str();
}

Napi::Object TensorHandle::Init(Napi::Env env, Napi::Object exports) {
  static const MethodEntry methods[] = {
      {"dispose", &TensorHandle::Dispose},
      {"isDisposed", &TensorHandle::IsDisposed},
      {"shape", &TensorHandle::Shape},
      {"dtype", &TensorHandle::Dtype},
      {"device", &TensorHandle::Device},
      {"requiresGrad", &TensorHandle::RequiresGrad},
      {"setRequiresGrad", &TensorHandle::SetRequiresGrad},
      {"grad", &TensorHandle::Grad},
      {"setGrad", &TensorHandle::SetGrad},
      {"backward", &TensorHandle::Backward},
      {"toBuffer", &TensorHandle::ToBuffer},
      {"item", &TensorHandle::Item},
      {"numel", &TensorHandle::Numel},
      {"dataPtr", &TensorHandle::DataPtr},
      {"isContiguous", &TensorHandle::IsContiguous},
  };
  std::vector<PropertyDescriptor> props;
  for (const auto& m : methods) {
    props.push_back(InstanceMethod(m.name, &TensorHandle::Guarded, napi_default, const_cast<MethodEntry*>(&m)));
  }
  Napi::Function ctor = DefineClass(env, "TensorHandle", props);
  auto* data = env.GetInstanceData<AddonData>();
  data->tensor_ctor = Napi::Persistent(ctor);
  exports.Set("TensorHandle", ctor);
  return exports;
}

Napi::Object TensorHandle::Wrap(Napi::Env env, at::Tensor t) {
  Napi::Object obj = env.GetInstanceData<AddonData>()->tensor_ctor.New({});
  auto* h = Napi::ObjectWrap<TensorHandle>::Unwrap(obj);
  h->tensor = std::move(t);
  h->held = h->tensor.defined();
  if (h->held) {
    counters().live++;
    counters().created++;
  }
  return obj;
}

bool TensorHandle::IsHandle(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) return false;
  return v.As<Napi::Object>().InstanceOf(env.GetInstanceData<AddonData>()->tensor_ctor.Value());
}

at::Tensor& TensorHandle::Get(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (!IsHandle(env, v)) throw Napi::TypeError::New(env, std::string(what) + ": expected a tensor");
  auto* h = Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>());
  if (!h->held) throw Napi::Error::New(env, std::string(what) + ": tensor was already disposed");
  return h->tensor;
}

Napi::Value TensorHandle::Guarded(const Napi::CallbackInfo& info) {
  const auto* entry = static_cast<const MethodEntry*>(info.Data());
  return guarded(info.Env(), entry->name, [&] { return (this->*(entry->method))(info); });
}

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {}

void TensorHandle::release() {
  if (held) {
    tensor = at::Tensor();
    held = false;
    counters().live--;
  }
}

TensorHandle::~TensorHandle() { release(); }

void TensorHandle::Finalize(Napi::Env) {
  if (held) counters().finalised++;
  release();
}

Napi::Value TensorHandle::Dispose(const Napi::CallbackInfo& info) {
  release();
  return info.Env().Undefined();
}

Napi::Value TensorHandle::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !held);
}

// The methods below run inside Guarded (see Init): they may throw anything.
#define SELF(what) at::Tensor& t = TensorHandle::Get(info.This(), what)

Napi::Value TensorHandle::Shape(const Napi::CallbackInfo& info) {
  SELF("shape");
  // libtorch throws from sizes() of a nested tensor with a message about its internals.
  if (t.is_nested()) throw std::invalid_argument("a nested tensor has no single shape (" + describe_tensor(t) + "); unbind it into its tensors");
  auto sizes = t.sizes();
  Napi::Array arr = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); i++) arr.Set(i, Napi::Number::New(info.Env(), double(sizes[i])));
  return arr;
}

Napi::Value TensorHandle::Dtype(const Napi::CallbackInfo& info) {
  SELF("dtype");
  return Napi::String::New(info.Env(), dtype_name(t.scalar_type()));
}

Napi::Value TensorHandle::Device(const Napi::CallbackInfo& info) {
  SELF("device");
  return Napi::String::New(info.Env(), t.device().str());
}

Napi::Value TensorHandle::RequiresGrad(const Napi::CallbackInfo& info) {
  SELF("requiresGrad");
  return Napi::Boolean::New(info.Env(), t.requires_grad());
}

Napi::Value TensorHandle::SetRequiresGrad(const Napi::CallbackInfo& info) {
  SELF("setRequiresGrad");
  t.set_requires_grad(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value TensorHandle::Grad(const Napi::CallbackInfo& info) {
  SELF("grad");
  const at::Tensor& g = t.grad();
  if (!g.defined()) return info.Env().Null();
  return TensorHandle::Wrap(info.Env(), g);
}

// The checks of PyTorch's `tensor.grad = g`: the optimiser and the accumulation of the next
// backward() would otherwise fail later, far from the assignment, or silently broadcast.
static void check_grad(const at::Tensor& t, const at::Tensor& g) {
  auto both = [&]() { return "gradient " + describe_tensor(g) + " for a tensor " + describe_tensor(t); };
  if (g.is_same(t)) throw std::invalid_argument("a tensor cannot be its own gradient");
  if (g.scalar_type() != t.scalar_type()) throw std::invalid_argument(both() + ": the dtypes differ");
  if (g.device() != t.device()) throw std::invalid_argument(both() + ": the devices differ");
  if (g.is_nested() || t.is_nested()) {
    if (g.is_nested() != t.is_nested()) throw std::invalid_argument(both() + ": only a nested tensor has a nested gradient");
    return;
  }
  if (g.sizes() != t.sizes()) throw std::invalid_argument(both() + ": the shapes differ");
}

Napi::Value TensorHandle::SetGrad(const Napi::CallbackInfo& info) {
  SELF("setGrad");
  if (info[0].IsNull() || info[0].IsUndefined()) {
    t.mutable_grad() = at::Tensor();
  } else {
    const at::Tensor& g = TensorHandle::Get(info[0], "setGrad");
    check_grad(t, g);
    t.mutable_grad() = g;
  }
  return info.Env().Undefined();
}

Napi::Value TensorHandle::Backward(const Napi::CallbackInfo& info) {
  SELF("backward");
  at::Tensor grad;
  if (info.Length() > 0 && !info[0].IsNull() && !info[0].IsUndefined()) grad = TensorHandle::Get(info[0], "backward");
  t.backward(grad);
  return info.Env().Undefined();
}

// Copies the values to a new ArrayBuffer (contiguous, CPU, same dtype).
Napi::Value TensorHandle::ToBuffer(const Napi::CallbackInfo& info) {
  SELF("toBuffer");
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  size_t bytes = c.numel() * c.element_size();
  auto buf = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes) std::memcpy(buf.Data(), c.data_ptr(), bytes);
  return buf;
}

Napi::Value TensorHandle::Item(const Napi::CallbackInfo& info) {
  SELF("item");
  if (t.numel() != 1) throw std::invalid_argument("item() needs a tensor with one element, got " + std::to_string(t.numel()));
  if (t.scalar_type() == at::kBool) return Napi::Boolean::New(info.Env(), t.item<bool>());
  return Napi::Number::New(info.Env(), t.item<double>());
}

Napi::Value TensorHandle::Numel(const Napi::CallbackInfo& info) {
  SELF("numel");
  return Napi::Number::New(info.Env(), double(t.numel()));
}

// Identity of the storage, so tests can tell views and copies apart.
Napi::Value TensorHandle::DataPtr(const Napi::CallbackInfo& info) {
  SELF("dataPtr");
  if (t.layout() != at::kStrided || t.is_nested()) throw std::invalid_argument("a " + describe_tensor(t) + " tensor has no single data pointer");
  return Napi::BigInt::New(info.Env(), uint64_t(reinterpret_cast<uintptr_t>(t.data_ptr())));
}

Napi::Value TensorHandle::IsContiguous(const Napi::CallbackInfo& info) {
  SELF("isContiguous");
  return Napi::Boolean::New(info.Env(), t.is_contiguous());
}

}  // namespace sere
