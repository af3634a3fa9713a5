// A libvirt connection (virConnectPtr): its own calls, lookups and lists that hand out Domain
// and Network handles, and the switches for its event callbacks.
#pragma once
#include <napi.h>
#include <memory>
#include "conn-state.h"

namespace wv {

class Connection : public Napi::ObjectWrap<Connection> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit Connection(const Napi::CallbackInfo& info);
  ~Connection() override;

 private:
  static Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value Call(Napi::Env env, const char* call, std::function<bool()> exec, std::function<Napi::Value(Napi::Env)> done = nullptr);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value IsAlive(const Napi::CallbackInfo& info);
  Napi::Value Hostname(const Napi::CallbackInfo& info);
  Napi::Value LibVersion(const Napi::CallbackInfo& info);
  Napi::Value NodeInfo(const Napi::CallbackInfo& info);
  Napi::Value NodeFreeMemory(const Napi::CallbackInfo& info);
  Napi::Value ListAllDomains(const Napi::CallbackInfo& info);
  Napi::Value ListDomainNames(const Napi::CallbackInfo& info);
  Napi::Value ListActiveDomainIds(const Napi::CallbackInfo& info);
  /** In domain-survey.cc. */
  Napi::Value ReadAllDomains(const Napi::CallbackInfo& info);
  Napi::Value LookupDomainByName(const Napi::CallbackInfo& info);
  Napi::Value LookupDomainById(const Napi::CallbackInfo& info);
  Napi::Value LookupDomainByUuid(const Napi::CallbackInfo& info);
  Napi::Value DefineDomain(const Napi::CallbackInfo& info);
  Napi::Value CreateDomain(const Napi::CallbackInfo& info);
  Napi::Value ListAllNetworks(const Napi::CallbackInfo& info);
  Napi::Value LookupNetworkByName(const Napi::CallbackInfo& info);
  Napi::Value DefineNetwork(const Napi::CallbackInfo& info);
  Napi::Value CreateNetwork(const Napi::CallbackInfo& info);
  Napi::Value SetEventSink(const Napi::CallbackInfo& info);
  Napi::Value EnableDomainEvents(const Napi::CallbackInfo& info);
  Napi::Value DisableDomainEvents(const Napi::CallbackInfo& info);
  Napi::Value Uri(const Napi::CallbackInfo& info);
  Napi::Value DomainCall(Napi::Env env, const char* call, std::function<virDomainPtr()> exec);
  Napi::Value NetworkCall(Napi::Env env, const char* call, std::function<virNetworkPtr()> exec);
  // storage.cc
  Napi::Value PoolCall(Napi::Env env, const char* call, std::function<virStoragePoolPtr()> exec);
  Napi::Value LookupStoragePoolByTargetPath(const Napi::CallbackInfo& info);
  Napi::Value CreateStoragePool(const Napi::CallbackInfo& info);
  Napi::Value LookupStorageVolByPath(const Napi::CallbackInfo& info);

  std::shared_ptr<ConnState> state_;
  static Napi::FunctionReference constructor_;
};

}  // namespace wv
