#include <napi.h>
#include "dispatch.h"
#include "distributed.h"
#include "errors.h"
#include "runtime.h"
#include "tensor_handle.h"

namespace sere {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  TensorHandle::Init(env, exports);
  // Each function runs inside `guarded`: a C++ exception becomes a JS Error naming it.
  auto fn = [&](const char* name, EntryPoint f) { exports.Set(name, guarded_function(env, name, f)); };
  fn("findOp", FindOp);
  fn("callOp", CallOp);
  fn("opSchema", OpSchema);
  fn("fromBuffer", FromBuffer);
  fn("counts", Counts);
  fn("setGradEnabled", SetGradEnabled);
  fn("isGradEnabled", IsGradEnabled);
  fn("manualSeed", ManualSeed);
  fn("getRngState", GetRngState);
  fn("setRngState", SetRngState);
  fn("setNumThreads", SetNumThreads);
  fn("getNumThreads", GetNumThreads);
  fn("setAutocast", SetAutocast);
  fn("clearAutocastCache", ClearAutocastCache);
  fn("setAllowTF32", SetAllowTF32);
  fn("buildInfo", BuildInfo);
  fn("cudaDeviceName", CudaDeviceName);
  fn("synchronize", Synchronize);
  fn("cudaMemory", CudaMemory);
  fn("emptyCache", EmptyCache);
  fn("hasCollectives", HasCollectives);
  fn("newProcessGroup", NewProcessGroup);
  fn("closeProcessGroup", CloseProcessGroup);
  fn("allReduce", AllReduce);
  fn("broadcast", Broadcast);
  fn("allGather", AllGather);
  fn("barrier", Barrier);
  fn("allReduceSumGrad", AllReduceSumGrad);
  fn("newReducer", NewReducer);
  fn("reducerPrepare", ReducerPrepare);
  fn("closeReducer", CloseReducer);
  return exports;
}

}  // namespace sere

// Context-aware: the addon can be loaded by the main thread and by worker threads.
static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return sere::Init(env, exports); }
NODE_API_MODULE(sere_torch, InitAddon)
