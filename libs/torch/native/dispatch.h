#pragma once
#include <napi.h>

namespace sere {
// findOp(name, overload) -> operator id, or -1 when this libtorch has no such operator.
Napi::Value FindOp(const Napi::CallbackInfo& info);
// callOp(id, args[]) -> tensor | tensor[] | number | boolean | null | undefined.
Napi::Value CallOp(const Napi::CallbackInfo& info);
// opSchema(id) -> the operator's schema text (for error messages and docs).
Napi::Value OpSchema(const Napi::CallbackInfo& info);
}  // namespace sere
