// Collectives for data-parallel training, from libtorch's own c10d: a TCPStore rendezvous,
// ProcessGroupGloo for CPU tensors, DDP's Reducer for bucketed gradient all-reduce that
// overlaps the backward pass, and a differentiable all-reduce (SyncBatchNorm's statistics).
// Every wait is bounded by the group's timeout and runs on the calling thread: the trainer
// calls these from its worker thread, never from Node's main thread. A failure (a dead
// peer, a timeout, a peer that never arrives) is a JS error naming the operation and the
// rank, never a hang or a crash.
#include "distributed.h"
#include "errors.h"
#include "tensor_handle.h"
#include <torch/version.h>

#if defined(SERE_HAVE_C10D)
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unordered_map>
#endif

namespace sere {

#if defined(SERE_HAVE_C10D)
namespace {

using Ms = std::chrono::milliseconds;

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  int rank = 0;
  int size = 1;
  Ms timeout{0};
  int64_t id = 0;
  std::string where(const std::string& op) const {
    return op + " (rank " + std::to_string(rank) + " of " + std::to_string(size) + ")";
  }
};

// The differentiable all-reduce looks its group up by id: autograd functions keep only
// plain values, and a group closed meanwhile must fail with a message, not dangle.
std::mutex g_groups_mutex;
std::unordered_map<int64_t, std::shared_ptr<Group>> g_groups;
int64_t g_next_group = 1;

std::shared_ptr<Group> group_by_id(int64_t id) {
  std::lock_guard<std::mutex> lock(g_groups_mutex);
  auto it = g_groups.find(id);
  if (it == g_groups.end()) throw std::runtime_error("the process group was closed");
  return it->second;
}

std::string c10_message(const std::exception& e) {
  if (auto* ce = dynamic_cast<const c10::Error*>(&e)) return short_message(ce->what_without_backtrace());
  return short_message(e.what());
}

void wait_work(const Group& g, const c10::intrusive_ptr<c10d::Work>& work, const std::string& op) {
  try {
    work->wait(g.timeout);
  } catch (const std::exception& e) {
    throw CollectiveFailure(g.where(op) + " failed: " + c10_message(e));
  }
}

std::shared_ptr<Group> unwrap(const Napi::Value& v) {
  if (!v.IsExternal()) throw std::invalid_argument("expected a process group");
  auto* holder = v.As<Napi::External<std::shared_ptr<Group>>>().Data();
  if (!*holder || !(*holder)->pg) throw std::runtime_error("the process group was closed");
  return *holder;
}

std::vector<at::Tensor> tensor_list(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw std::invalid_argument(std::string(what) + " must be a list of tensors");
  auto a = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(TensorHandle::Get(a.Get(i), what));
  return out;
}

c10d::ReduceOp parse_op(const std::string& op) {
  if (op == "sum" || op == "avg") return c10d::ReduceOp::SUM;  // avg = sum / size: Gloo has no AVG
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  throw std::invalid_argument("reduce op must be sum, avg, max or min, got '" + op + "'");
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// Gloo binds one address per process. GLOO_SOCKET_IFNAME chooses the interface, as in
// PyTorch; a loopback master means every rank is on this machine; otherwise the address
// this machine's hostname resolves to (PyTorch's default, what a pod network gives).
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME")) {
    if (*ifname) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (is_loopback(master)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

std::string store_get(c10d::Store& store, const std::string& key) {
  auto v = store.get(key);
  return std::string(v.begin(), v.end());
}

void store_set(c10d::Store& store, const std::string& key, const std::string& value) {
  store.set(key, std::vector<uint8_t>(value.begin(), value.end()));
}

// Every rank checks, through the store, that it agrees with rank 0 on the world size and
// that no rank is missing or started twice, before the Gloo mesh is built: a mesh with a
// missing peer would only time out with a socket message naming no rank.
void rendezvous(c10d::Store& store, int rank, int size, Ms timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string abort_key = "sere/abort";
  auto fail = [&](const std::string& msg) {
    try {
      store_set(store, abort_key, msg);
    } catch (...) {
    }
    throw CollectiveFailure(msg);
  };
  if (rank == 0) {
    store_set(store, "sere/world_size", std::to_string(size));
  } else {
    store.wait({"sere/world_size"}, timeout);
    int master_size = std::stoi(store_get(store, "sere/world_size"));
    if (master_size != size)
      fail("world sizes disagree: rank " + std::to_string(rank) + " has WORLD_SIZE=" + std::to_string(size) + ", rank 0 has WORLD_SIZE=" + std::to_string(master_size));
  }
  if (store.add("sere/arrived/" + std::to_string(rank), 1) > 1) fail("rank " + std::to_string(rank) + " was started twice (RANK must differ between processes)");
  auto poll = [&](auto ready) {
    while (true) {
      if (store.check({abort_key})) throw CollectiveFailure(store_get(store, abort_key));
      if (ready()) return;
      if (std::chrono::steady_clock::now() >= deadline) return;
      std::this_thread::sleep_for(Ms(50));
    }
  };
  if (rank == 0) {
    std::vector<int> missing;
    poll([&] {
      missing.clear();
      for (int r = 1; r < size; r++)
        if (!store.check({"sere/arrived/" + std::to_string(r)})) missing.push_back(r);
      return missing.empty();
    });
    if (!missing.empty()) {
      std::string list;
      for (int r : missing) list += (list.empty() ? "" : ", ") + std::to_string(r);
      fail("rank" + std::string(missing.size() > 1 ? "s " : " ") + list + " of " + std::to_string(size) + " did not arrive within " +
           std::to_string(timeout.count() / 1000.0).substr(0, 6) + " s");
    }
    store_set(store, "sere/go", "1");
  } else {
    bool go = false;
    poll([&] { return go = store.check({"sere/go"}); });
    if (!go) throw CollectiveFailure("rank 0 did not start the group within the timeout");
  }
}

struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t group) {
    ctx->saved_data["group"] = group;
    auto g = group_by_id(group);
    std::vector<at::Tensor> v{x.detach().clone(at::MemoryFormat::Contiguous)};
    wait_work(*g, g->pg->allreduce(v), "all-reduce (forward)");
    return v[0];
  }
  // d(Σ_r x_r)/dx_q = 1 for every pair, so the gradient of each rank's input is the sum of
  // the gradients of every rank's output: the backward of an all-reduce is an all-reduce.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto g = group_by_id(ctx->saved_data["group"].toInt());
    std::vector<at::Tensor> v{grads[0].contiguous().clone()};
    wait_work(*g, g->pg->allreduce(v), "all-reduce (backward)");
    return {v[0], at::Tensor()};
  }
};

struct ReducerBox {
  std::shared_ptr<Group> group;
  std::unique_ptr<c10d::Reducer> reducer;
};

ReducerBox* unwrap_reducer(const Napi::Value& v) {
  if (!v.IsExternal()) throw std::invalid_argument("expected a gradient reducer");
  auto* box = v.As<Napi::External<ReducerBox>>().Data();
  if (!box->reducer) throw std::runtime_error("the gradient reducer was closed");
  return box;
}

}  // namespace

Napi::Value NewProcessGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = info[0].As<Napi::Object>();
  std::string host = o.Get("masterAddr").ToString().Utf8Value();
  int port = o.Get("masterPort").ToNumber().Int32Value();
  int rank = o.Get("rank").ToNumber().Int32Value();
  int size = o.Get("worldSize").ToNumber().Int32Value();
  Ms timeout(static_cast<int64_t>(o.Get("timeoutMs").ToNumber().DoubleValue()));
  if (size < 1 || rank < 0 || rank >= size) throw std::invalid_argument("RANK must be in [0, WORLD_SIZE), got RANK=" + std::to_string(rank) + " WORLD_SIZE=" + std::to_string(size));
  if (port < 1 || port > 65535) throw std::invalid_argument("MASTER_PORT must be in 1..65535, got " + std::to_string(port));
  auto g = std::make_shared<Group>();
  g->rank = rank;
  g->size = size;
  g->timeout = timeout;
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<uint16_t>(port);
  opts.isServer = rank == 0;
  opts.waitWorkers = false;
  opts.timeout = timeout;
  try {
    g->store = c10::make_intrusive<c10d::TCPStore>(host, opts);
  } catch (const std::exception& e) {
    std::string endpoint = host + ":" + std::to_string(port);
    if (rank == 0) throw CollectiveFailure("rendezvous (rank 0): could not serve the store on " + endpoint + " (is --master_port taken by another job?): " + c10_message(e));
    throw CollectiveFailure("rendezvous (rank " + std::to_string(rank) + "): could not reach the master at " + endpoint + " within the timeout: " + c10_message(e));
  }
  try {
    rendezvous(*g->store, rank, size, timeout);
  } catch (const std::exception& e) {
    throw CollectiveFailure(g->where("rendezvous") + ": " + c10_message(e));
  }
  auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
  gloo->devices.push_back(gloo_device(host));
  gloo->threads = 2;
  try {
    g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, rank, size, gloo);
  } catch (const std::exception& e) {
    throw CollectiveFailure(g->where("connecting the Gloo mesh") + ": " + c10_message(e));
  }
  {
    std::lock_guard<std::mutex> lock(g_groups_mutex);
    g->id = g_next_group++;
    g_groups[g->id] = g;
  }
  return Napi::External<std::shared_ptr<Group>>::New(env, new std::shared_ptr<Group>(g), [](Napi::Env, std::shared_ptr<Group>* p) {
    if (*p) {
      std::lock_guard<std::mutex> lock(g_groups_mutex);
      g_groups.erase((*p)->id);
    }
    delete p;
  });
}

Napi::Value CloseProcessGroup(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throw std::invalid_argument("expected a process group");
  auto* holder = info[0].As<Napi::External<std::shared_ptr<Group>>>().Data();
  if (*holder) {
    std::lock_guard<std::mutex> lock(g_groups_mutex);
    g_groups.erase((*holder)->id);
  }
  holder->reset();
  return info.Env().Undefined();
}

Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  auto g = unwrap(info[0]);
  auto tensors = tensor_list(info[1], "all-reduce tensors");
  std::string op = info[2].ToString().Utf8Value();
  c10d::AllreduceOptions opts;
  opts.reduceOp = parse_op(op);
  // One call per tensor: Gloo's all-reduce of a list sums the list too (it is for several
  // devices of one process), which is not what a caller handing us n tensors means.
  for (auto& t : tensors) {
    std::vector<at::Tensor> one{t};
    wait_work(*g, g->pg->allreduce(one, opts), "all-reduce");
    if (op == "avg") t.div_(g->size);
  }
  return info.Env().Undefined();
}

Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  auto g = unwrap(info[0]);
  auto tensors = tensor_list(info[1], "broadcast tensors");
  int root = info[2].ToNumber().Int32Value();
  if (root < 0 || root >= g->size) throw std::invalid_argument("broadcast root must be a rank, got " + std::to_string(root));
  try {
    // Coalesced into buckets of 256 MiB, as DistributedDataParallel syncs module states.
    c10d::broadcast_coalesced(g->pg, tensors, size_t(256) << 20, root);
  } catch (const std::exception& e) {
    throw CollectiveFailure(g->where("broadcast") + " failed: " + c10_message(e));
  }
  return info.Env().Undefined();
}

Napi::Value AllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto g = unwrap(info[0]);
  at::Tensor input = TensorHandle::Get(info[1], "all-gather input");
  std::vector<at::Tensor> in{input.contiguous()};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < g->size; r++) out[0].push_back(at::empty_like(in[0]));
  wait_work(*g, g->pg->allgather(out, in), "all-gather");
  Napi::Array arr = Napi::Array::New(env, out[0].size());
  for (size_t i = 0; i < out[0].size(); i++) arr.Set(i, TensorHandle::Wrap(env, out[0][i]));
  return arr;
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  auto g = unwrap(info[0]);
  wait_work(*g, g->pg->barrier(), "barrier");
  return info.Env().Undefined();
}

Napi::Value AllReduceSumGrad(const Napi::CallbackInfo& info) {
  auto g = unwrap(info[0]);
  at::Tensor x = TensorHandle::Get(info[1], "all-reduce input");
  return TensorHandle::Wrap(info.Env(), AllReduceSum::apply(x, g->id));
}

Napi::Value NewReducer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto g = unwrap(info[0]);
  auto params = tensor_list(info[1], "reducer parameters");
  auto o = info[2].As<Napi::Object>();
  int64_t bucket_cap = static_cast<int64_t>(o.Get("bucketCapBytes").ToNumber().DoubleValue());
  int64_t first_cap = static_cast<int64_t>(o.Get("firstBucketCapBytes").ToNumber().DoubleValue());
  bool find_unused = o.Get("findUnusedParameters").ToBoolean().Value();
  for (auto& p : params)
    if (!p.requires_grad()) throw std::invalid_argument("every reducer parameter must require grad");
  std::vector<bool> sparse(params.size(), false);
  // Buckets as DistributedDataParallel builds them: by size over the parameters in order,
  // then reversed, since gradients become ready roughly from the last layer backwards.
  auto assignment = c10d::compute_bucket_assignment_by_size(params, {size_t(first_cap), size_t(bucket_cap)}, sparse);
  auto buckets = std::get<0>(assignment);
  auto limits = std::get<1>(assignment);
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(limits.begin(), limits.end());
  auto box = new ReducerBox();
  box->group = g;
  try {
    box->reducer = std::make_unique<c10d::Reducer>(params, buckets, limits, g->pg, sparse, bucket_cap, find_unused, false, std::unordered_map<size_t, std::string>{}, first_cap);
  } catch (...) {
    delete box;
    throw;
  }
  auto out = Napi::Object::New(env);
  out.Set("handle", Napi::External<ReducerBox>::New(env, box, [](Napi::Env, ReducerBox* b) { delete b; }));
  out.Set("buckets", Napi::Number::New(env, double(buckets.size())));
  return out;
}

Napi::Value ReducerPrepare(const Napi::CallbackInfo& info) {
  auto* box = unwrap_reducer(info[0]);
  auto outputs = tensor_list(info[1], "reducer outputs");
  box->reducer->prepare_for_backward(outputs);
  return info.Env().Undefined();
}

Napi::Value CloseReducer(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throw std::invalid_argument("expected a gradient reducer");
  auto* box = info[0].As<Napi::External<ReducerBox>>().Data();
  box->reducer.reset();
  box->group.reset();
  return info.Env().Undefined();
}

Napi::Value HasCollectives(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), true); }

#else

namespace {
Napi::Value unavailable(const Napi::CallbackInfo& info) {
  throw std::runtime_error("this build of the addon has no collectives: it needs libtorch 1.x with c10d and Gloo headers (Debian: libtorch-dev and libgloo-dev)");
}
}  // namespace
Napi::Value NewProcessGroup(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value CloseProcessGroup(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value AllReduce(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value Broadcast(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value AllGather(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value Barrier(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value AllReduceSumGrad(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value NewReducer(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value ReducerPrepare(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value CloseReducer(const Napi::CallbackInfo& info) { return unavailable(info); }
Napi::Value HasCollectives(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), false); }

#endif

}  // namespace sere
