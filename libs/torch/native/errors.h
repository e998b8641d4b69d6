// Every native entry point runs inside `guarded`, so no C++ exception can cross into
// Node and abort the process: libtorch's c10::Error and std exceptions become JS Errors
// whose message starts with the operation's name.
#pragma once
#include <napi.h>
#include <c10/util/Exception.h>
#include <string>

namespace sere {

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
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, where + ": " + short_message(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, where + ": " + short_message(e.what()));
  } catch (...) {
    throw Napi::Error::New(env, where + ": unknown native error");
  }
}

}  // namespace sere
