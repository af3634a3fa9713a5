// A domain handle (virDomainPtr). Its methods are spread over files by job: lifecycle
// (domain.cc), configuration without redefining (domain-config.cc), figures (domain-stats.cc),
// migration and console (domain-migrate.cc). Flags arrive as numbers from native.ts.
#pragma once
#include <napi.h>
#include <functional>
#include <memory>
#include "conn-state.h"
#include "handles.h"

namespace wv {

class Domain : public Napi::ObjectWrap<Domain> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  /** Takes ownership of id.ptr. */
  static Napi::Object New(Napi::Env env, const std::shared_ptr<ConnState>& state, const DomainId& id);
  explicit Domain(const Napi::CallbackInfo& info);
  ~Domain() override;

 private:
  using Exec = std::function<bool()>;
  using Done = std::function<Napi::Value(Napi::Env)>;
  Napi::Value Call(Napi::Env env, const char* call, Exec exec, Done done = nullptr);
  /** A call that returns 0 on success and takes only the handle and a flags word. */
  Napi::Value Simple(const Napi::CallbackInfo& info, const char* call, int (*fn)(virDomainPtr, unsigned int));

  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Uuid(const Napi::CallbackInfo& info);
  // domain.cc
  Napi::Value GetId(const Napi::CallbackInfo& info);
  Napi::Value GetState(const Napi::CallbackInfo& info);
  Napi::Value GetXmlDesc(const Napi::CallbackInfo& info);
  Napi::Value IsPersistent(const Napi::CallbackInfo& info);
  Napi::Value IsActive(const Napi::CallbackInfo& info);
  Napi::Value HasManagedSave(const Napi::CallbackInfo& info);
  Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value Reboot(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value Undefine(const Napi::CallbackInfo& info);
  Napi::Value Suspend(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value ManagedSave(const Napi::CallbackInfo& info);
  Napi::Value ManagedSaveRemove(const Napi::CallbackInfo& info);
  // domain-config.cc
  Napi::Value SetMetadata(const Napi::CallbackInfo& info);
  Napi::Value GetMetadata(const Napi::CallbackInfo& info);
  Napi::Value SetMemory(const Napi::CallbackInfo& info);
  Napi::Value SetVcpus(const Napi::CallbackInfo& info);
  Napi::Value AttachDevice(const Napi::CallbackInfo& info);
  Napi::Value DetachDevice(const Napi::CallbackInfo& info);
  Napi::Value DetachDeviceAlias(const Napi::CallbackInfo& info);
  Napi::Value UpdateDevice(const Napi::CallbackInfo& info);
  // domain-stats.cc
  Napi::Value GetInfo(const Napi::CallbackInfo& info);
  Napi::Value InterfaceStats(const Napi::CallbackInfo& info);
  Napi::Value BlockStats(const Napi::CallbackInfo& info);
  Napi::Value MemoryStats(const Napi::CallbackInfo& info);
  Napi::Value GetJobInfo(const Napi::CallbackInfo& info);
  Napi::Value AbortJob(const Napi::CallbackInfo& info);
  // domain-migrate.cc
  Napi::Value MigrateToUri3(const Napi::CallbackInfo& info);
  Napi::Value OpenConsole(const Napi::CallbackInfo& info);

  std::shared_ptr<ConnState> state_;
  virDomainPtr dom_ = nullptr;
  std::string name_;
  std::string uuid_;
  static Napi::FunctionReference constructor_;
};

}  // namespace wv
