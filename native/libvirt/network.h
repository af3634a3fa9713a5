// A virtual network handle (virNetworkPtr).
#pragma once
#include <napi.h>
#include <functional>
#include <memory>
#include "conn-state.h"
#include "handles.h"

namespace wv {

class Network : public Napi::ObjectWrap<Network> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  /** Takes ownership of id.ptr. */
  static Napi::Object New(Napi::Env env, const std::shared_ptr<ConnState>& state, const NetworkId& id);
  explicit Network(const Napi::CallbackInfo& info);
  ~Network() override;

 private:
  Napi::Value Call(Napi::Env env, const char* call, std::function<bool()> exec, std::function<Napi::Value(Napi::Env)> done = nullptr);
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Uuid(const Napi::CallbackInfo& info);
  Napi::Value IsActive(const Napi::CallbackInfo& info);
  Napi::Value GetXmlDesc(const Napi::CallbackInfo& info);
  Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value Undefine(const Napi::CallbackInfo& info);
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value DhcpLeases(const Napi::CallbackInfo& info);

  std::shared_ptr<ConnState> state_;
  virNetworkPtr net_ = nullptr;
  std::string name_;
  std::string uuid_;
  static Napi::FunctionReference constructor_;
};

}  // namespace wv
