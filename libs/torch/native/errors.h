// Every native entry point runs inside `guarded`, so no C++ exception can cross into
// Node and abort the process: libtorch's c10::Error and std exceptions become JS Errors
// whose message starts with the operation's name. node-addon-api only converts Napi::Error
// itself; anything else escaping a callback ends in std::terminate. The guard is applied
// once, where functions and methods are registered (addon.cc, TensorHandle::Init), so an
// entry point added later cannot forget it.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <stdexcept>
#include <string>

namespace sere {

// A collective or rendezvous that failed: a peer died, never came, or disagreed. JS sees
// it as an Error with code COLLECTIVE_ERROR_CODE, so the run loop can tell "the group is
// gone, restart it" from a bug without reading messages.
struct CollectiveFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
constexpr const char* COLLECTIVE_ERROR_CODE = "ERR_SERE_COLLECTIVE";

// Gloo's own errors (a peer's socket closed or timed out under DDP's Reducer, in backward)
// reach us as c10::Error raised from Gloo's sources; the full what() names the file.
inline bool from_gloo(const c10::Error& e) {
  std::string w = e.what();
  return w.find("gloo/") != std::string::npos || w.find("ProcessGroupGloo") != std::string::npos;
}

inline Napi::Error collective_error(const Napi::Env& env, const std::string& msg) {
  auto err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, COLLECTIVE_ERROR_CODE));
  return err;
}

// c10::Error::what() carries a C++ backtrace after the first lines; users need the message.
inline std::string short_message(const std::string& what) {
  auto pos = what.find("\nException raised from");
  std::string msg = pos == std::string::npos ? what : what.substr(0, pos);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

template <typename F>
Napi::Value guarded(const Napi::Env& env, const std::string& where, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const CollectiveFailure& e) {
    throw collective_error(env, where + ": " + short_message(e.what()));
  } catch (const c10::Error& e) {
    if (from_gloo(e)) throw collective_error(env, where + ": " + short_message(e.what_without_backtrace()));
    throw Napi::Error::New(env, where + ": " + short_message(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, where + ": " + short_message(e.what()));
  } catch (...) {
    throw Napi::Error::New(env, where + ": unknown native error");
  }
}

using EntryPoint = Napi::Value (*)(const Napi::CallbackInfo&);

// A JS function calling `f` inside `guarded`, named `name` in JS and in its error messages.
inline Napi::Function guarded_function(Napi::Env env, const char* name, EntryPoint f) {
  return Napi::Function::New(
      env, [name, f](const Napi::CallbackInfo& info) { return guarded(info.Env(), name, [&] { return f(info); }); }, name);
}

// "float32[2, 3]", "float32[nested]", "float32[4, 4](Sparse)@cuda:0": for error messages, so it
// must not throw itself. Nested tensors have no sizes(), undefined tensors no dtype.
std::string describe_tensor(const at::Tensor& t);

}  // namespace sere
