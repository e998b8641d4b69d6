// Generic access to every ATen operator through the c10 dispatcher, so the TypeScript
// side can call any op by its schema name ("aten::matmul") without one hand-written
// wrapper per op. Arguments are converted by the op's own schema; dispatch goes through
// the same keys as in PyTorch (autograd, autocast, CUDA), so behaviour is identical.
#include "dispatch.h"
#include "errors.h"
#include "tensor_handle.h"
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/version.h>
#include <array>
#include <cmath>
#include <atomic>
#include <memory>
#include <mutex>
#include <sstream>

namespace sere {
namespace {

struct OpEntry {
  c10::OperatorHandle handle;
  std::string name;
};

// Fixed capacity so readers on worker threads never see a reallocation.
constexpr size_t kMaxOps = 4096;
std::array<std::unique_ptr<OpEntry>, kMaxOps> g_ops;
std::atomic<size_t> g_op_count{0};
std::mutex g_register_mutex;

std::string describe_value(const Napi::Env& env, const Napi::Value& v) {
  if (TensorHandle::IsHandle(env, v)) {
    auto* h = Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>());
    if (!h->held) return "<disposed>";
    return describe_tensor(h->tensor);
  }
  if (v.IsArray()) {
    auto a = v.As<Napi::Array>();
    std::string out = "[";
    for (uint32_t i = 0; i < a.Length(); i++) out += (i ? ", " : "") + describe_value(env, a.Get(i));
    return out + "]";
  }
  if (v.IsNull() || v.IsUndefined()) return "None";
  return v.ToString().Utf8Value();
}

int64_t to_int(const Napi::Value& v, const std::string& arg) {
  if (!v.IsNumber() && !v.IsBoolean()) throw std::invalid_argument("argument '" + arg + "' expects an integer");
  double d = v.IsBoolean() ? (v.ToBoolean().Value() ? 1 : 0) : v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) throw std::invalid_argument("argument '" + arg + "' expects an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

c10::IValue to_ivalue(const Napi::Env& env, const Napi::Value& v, const c10::TypePtr& type, const std::string& arg);

template <typename T, typename Conv>
c10::List<T> to_list(const Napi::Value& v, const std::string& arg, Conv conv) {
  if (!v.IsArray()) throw std::invalid_argument("argument '" + arg + "' expects a list");
  auto a = v.As<Napi::Array>();
  c10::List<T> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(conv(a.Get(i)));
  return out;
}

c10::IValue to_ivalue(const Napi::Env& env, const Napi::Value& v, const c10::TypePtr& type, const std::string& arg) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return TensorHandle::Get(v, ("argument '" + arg + "'").c_str());
    case c10::TypeKind::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return to_ivalue(env, v, type->expectRef<c10::OptionalType>().getElementType(), arg);
    case c10::TypeKind::IntType:
#if TORCH_VERSION_MAJOR >= 2 || (TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR >= 13)
    case c10::TypeKind::SymIntType:
#endif
      return to_int(v, arg);
    case c10::TypeKind::FloatType:
      if (!v.IsNumber()) throw std::invalid_argument("argument '" + arg + "' expects a number");
      return v.As<Napi::Number>().DoubleValue();
    case c10::TypeKind::BoolType:
      return v.ToBoolean().Value();
    case c10::TypeKind::NumberType: {
      // Integers stay integral (like Python's 2 vs 2.0) so integer tensors keep their dtype.
      if (v.IsBoolean()) return c10::Scalar(v.ToBoolean().Value());
      if (!v.IsNumber()) throw std::invalid_argument("argument '" + arg + "' expects a number");
      double d = v.As<Napi::Number>().DoubleValue();
      if (std::isfinite(d) && d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9e15) return c10::Scalar(static_cast<int64_t>(d));
      return c10::Scalar(d);
    }
    case c10::TypeKind::StringType:
      return v.ToString().Utf8Value();
    case c10::TypeKind::DeviceObjType:
      return c10::Device(v.ToString().Utf8Value());
    case c10::TypeKind::ListType: {
      auto elem = type->expectRef<c10::ListType>().getElementType();
      switch (elem->kind()) {
        case c10::TypeKind::IntType:
          return to_list<int64_t>(v, arg, [&](const Napi::Value& x) { return to_int(x, arg); });
#if TORCH_VERSION_MAJOR >= 2 || TORCH_VERSION_MINOR >= 13
        // SymInt[] arguments accept a plain int list when boxed.
        case c10::TypeKind::SymIntType:
          return to_list<int64_t>(v, arg, [&](const Napi::Value& x) { return to_int(x, arg); });
#endif
        case c10::TypeKind::FloatType:
          return to_list<double>(v, arg, [&](const Napi::Value& x) { return x.ToNumber().DoubleValue(); });
        case c10::TypeKind::BoolType:
          return to_list<bool>(v, arg, [&](const Napi::Value& x) { return x.ToBoolean().Value(); });
        case c10::TypeKind::TensorType:
          return to_list<at::Tensor>(v, arg, [&](const Napi::Value& x) { return TensorHandle::Get(x, ("argument '" + arg + "'").c_str()); });
        case c10::TypeKind::OptionalType:
          return to_list<c10::optional<at::Tensor>>(v, arg, [&](const Napi::Value& x) -> c10::optional<at::Tensor> {
            if (x.IsNull() || x.IsUndefined()) return c10::nullopt;
            return TensorHandle::Get(x, ("argument '" + arg + "'").c_str());
          });
        default:
          break;
      }
      throw std::invalid_argument("argument '" + arg + "' has an unsupported list type " + type->str());
    }
    default:
      throw std::invalid_argument("argument '" + arg + "' has an unsupported type " + type->str());
  }
}

Napi::Value from_ivalue(const Napi::Env& env, const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    if (!t.defined()) return env.Null();
    return TensorHandle::Wrap(env, t);
  }
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    Napi::Array arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(i, TensorHandle::Wrap(env, list.get(i)));
    return arr;
  }
  if (v.isTuple()) {
    auto& elems = v.toTupleRef().elements();
    Napi::Array arr = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); i++) arr.Set(i, from_ivalue(env, elems[i]));
    return arr;
  }
  if (v.isNone()) return env.Null();
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) return Napi::Number::New(env, double(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isIntList()) {
    auto list = v.toIntList();
    Napi::Array arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(i, Napi::Number::New(env, double(list.get(i))));
    return arr;
  }
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  throw std::invalid_argument("unsupported return type " + v.tagKind());
}

}  // namespace

Napi::Value FindOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].ToString().Utf8Value();
  std::string overload = info.Length() > 1 ? info[1].ToString().Utf8Value() : "";
  return guarded(env, "findOp(" + name + ")", [&]() -> Napi::Value {
    auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!handle.has_value()) return Napi::Number::New(env, -1);
    std::lock_guard<std::mutex> lock(g_register_mutex);
    size_t n = g_op_count.load();
    std::string full = overload.empty() ? name : name + "." + overload;
    for (size_t i = 0; i < n; i++) {
      if (g_ops[i]->name == full) return Napi::Number::New(env, double(i));
    }
    if (n >= kMaxOps) throw std::runtime_error("too many distinct operators");
    g_ops[n] = std::make_unique<OpEntry>(OpEntry{*handle, full});
    g_op_count.store(n + 1);
    return Napi::Number::New(env, double(n));
  });
}

Napi::Value CallOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t id = info[0].As<Napi::Number>().Int64Value();
  if (id < 0 || size_t(id) >= g_op_count.load()) throw Napi::Error::New(env, "callOp: unknown operator id");
  const OpEntry& op = *g_ops[id];
  Napi::Array args = info[1].As<Napi::Array>();
  try {
    const auto& schema = op.handle.schema();
    const auto& formals = schema.arguments();
    if (args.Length() > formals.size())
      throw std::invalid_argument("takes at most " + std::to_string(formals.size()) + " arguments, got " + std::to_string(args.Length()));
    std::vector<c10::IValue> stack;
    stack.reserve(formals.size());
    for (size_t i = 0; i < formals.size(); i++) {
      const auto& formal = formals[i];
      Napi::Value v = i < args.Length() ? args.Get(uint32_t(i)) : env.Undefined();
      if (v.IsUndefined()) {
        if (!formal.default_value().has_value()) throw std::invalid_argument("missing required argument '" + formal.name() + "'");
        stack.push_back(*formal.default_value());
      } else {
        stack.push_back(to_ivalue(env, v, formal.type(), formal.name()));
      }
    }
    op.handle.callBoxed(&stack);
    const auto& returns = schema.returns();
    if (returns.empty()) return env.Undefined();
    // An in-place or out= op returns the tensor it wrote into: hand back the caller's own
    // JS object instead of a second handle to the same tensor.
    auto aliased_input = [&](size_t r) -> int {
      const auto* ra = returns[r].alias_info();
      if (!ra || !ra->isWrite()) return -1;
      for (size_t i = 0; i < formals.size() && i < args.Length(); i++) {
        const auto* fa = formals[i].alias_info();
        if (fa && fa->isWrite() && fa->beforeSets() == ra->beforeSets()) return int(i);
      }
      return -1;
    };
    if (returns.size() == 1) {
      int a = aliased_input(0);
      if (a >= 0) return args.Get(uint32_t(a));
      return from_ivalue(env, stack[0]);
    }
    Napi::Array out = Napi::Array::New(env, returns.size());
    for (size_t r = 0; r < returns.size(); r++) {
      int a = aliased_input(r);
      out.Set(r, a >= 0 ? args.Get(uint32_t(a)) : from_ivalue(env, stack[r]));
    }
    return out;
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string msg = dynamic_cast<const c10::Error*>(&e) ? static_cast<const c10::Error&>(e).what_without_backtrace() : e.what();
    std::string sig;
    for (uint32_t i = 0; i < args.Length(); i++) sig += (i ? ", " : "") + describe_value(env, args.Get(i));
    throw Napi::Error::New(env, op.name + "(" + sig + "): " + short_message(msg));
  }
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  int64_t id = info[0].As<Napi::Number>().Int64Value();
  if (id < 0 || size_t(id) >= g_op_count.load()) throw Napi::Error::New(info.Env(), "opSchema: unknown operator id");
  std::ostringstream s;
  s << g_ops[id]->handle.schema();
  return Napi::String::New(info.Env(), s.str());
}

}  // namespace sere
