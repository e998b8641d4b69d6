// c10d collectives (distributed.cc); stubs that throw when the addon is built without them.
#pragma once
#include <napi.h>

namespace sere {
Napi::Value NewProcessGroup(const Napi::CallbackInfo& info);
Napi::Value CloseProcessGroup(const Napi::CallbackInfo& info);
Napi::Value AllReduce(const Napi::CallbackInfo& info);
Napi::Value Broadcast(const Napi::CallbackInfo& info);
Napi::Value AllGather(const Napi::CallbackInfo& info);
Napi::Value Barrier(const Napi::CallbackInfo& info);
Napi::Value AllReduceSumGrad(const Napi::CallbackInfo& info);
Napi::Value NewReducer(const Napi::CallbackInfo& info);
Napi::Value ReducerPrepare(const Napi::CallbackInfo& info);
Napi::Value CloseReducer(const Napi::CallbackInfo& info);
Napi::Value HasCollectives(const Napi::CallbackInfo& info);
}  // namespace sere
