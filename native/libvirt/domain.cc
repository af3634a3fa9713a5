#include "domain.h"
#include "worker.h"

namespace wv {

Napi::FunctionReference Domain::constructor_;

void Domain::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "NativeDomain", {
      InstanceAccessor("name", &Domain::Name, nullptr),
      InstanceAccessor("uuid", &Domain::Uuid, nullptr),
      InstanceMethod("getId", &Domain::GetId),
      InstanceMethod("getState", &Domain::GetState),
      InstanceMethod("getInfo", &Domain::GetInfo),
      InstanceMethod("getXmlDesc", &Domain::GetXmlDesc),
      InstanceMethod("isPersistent", &Domain::IsPersistent),
      InstanceMethod("isActive", &Domain::IsActive),
      InstanceMethod("hasManagedSave", &Domain::HasManagedSave),
      InstanceMethod("create", &Domain::Create),
      InstanceMethod("shutdown", &Domain::Shutdown),
      InstanceMethod("reboot", &Domain::Reboot),
      InstanceMethod("destroy", &Domain::Destroy),
      InstanceMethod("undefine", &Domain::Undefine),
      InstanceMethod("suspend", &Domain::Suspend),
      InstanceMethod("resume", &Domain::Resume),
      InstanceMethod("managedSave", &Domain::ManagedSave),
      InstanceMethod("managedSaveRemove", &Domain::ManagedSaveRemove),
      InstanceMethod("setMetadata", &Domain::SetMetadata),
      InstanceMethod("getMetadata", &Domain::GetMetadata),
      InstanceMethod("setMemory", &Domain::SetMemory),
      InstanceMethod("setVcpus", &Domain::SetVcpus),
      InstanceMethod("attachDevice", &Domain::AttachDevice),
      InstanceMethod("detachDevice", &Domain::DetachDevice),
      InstanceMethod("detachDeviceAlias", &Domain::DetachDeviceAlias),
      InstanceMethod("updateDevice", &Domain::UpdateDevice),
      InstanceMethod("interfaceStats", &Domain::InterfaceStats),
      InstanceMethod("blockStats", &Domain::BlockStats),
      InstanceMethod("memoryStats", &Domain::MemoryStats),
      InstanceMethod("getJobInfo", &Domain::GetJobInfo),
      InstanceMethod("abortJob", &Domain::AbortJob),
      InstanceMethod("migrateToUri3", &Domain::MigrateToUri3),
      InstanceMethod("openConsole", &Domain::OpenConsole),
  });
  constructor_ = Napi::Persistent(ctor);
  constructor_.SuppressDestruct();  // static: outlives the environment
  exports.Set("NativeDomain", ctor);
}

Napi::Object Domain::New(Napi::Env env, const std::shared_ptr<ConnState>& state, const DomainId& id) {
  Napi::Object o = constructor_.New({});
  Domain* d = Unwrap(o);
  d->state_ = state;
  d->dom_ = id.ptr;
  d->name_ = id.name;
  d->uuid_ = id.uuid;
  return o;
}

Domain::Domain(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Domain>(info) {}

Domain::~Domain() {
  if (!dom_) return;
  // Off the main thread: the last reference may be the one that closes its connection.
  virDomainPtr d = dom_;
  RunOnPool([d] { virDomainFree(d); });
}

Napi::Value Domain::Call(Napi::Env env, const char* call, Exec exec, Done done) {
  if (!dom_) NAPI_THROW(Napi::TypeError::New(env, "domains come from a Connection"), Napi::Value());
  Hold hold;
  hold.dom = dom_;
  return Submit(env, call, state_, hold, std::move(exec), std::move(done));
}

Napi::Value Domain::Simple(const Napi::CallbackInfo& info, const char* call, int (*fn)(virDomainPtr, unsigned int)) {
  virDomainPtr d = dom_;
  unsigned int flags = Flags(info[0]);
  return Call(info.Env(), call, [d, fn, flags] { return fn(d, flags) >= 0; });
}

Napi::Value Domain::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
Napi::Value Domain::Uuid(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), uuid_); }

// The handle's own id is the one it had at lookup: ask the driver for the current one.
Napi::Value Domain::GetId(const Napi::CallbackInfo& info) {
  auto id = std::make_shared<unsigned int>(0);
  virDomainPtr d = dom_;
  return Call(info.Env(), "virDomainLookupByUUID", [d, id] {
    unsigned char uuid[VIR_UUID_BUFLEN];
    if (virDomainGetUUID(d, uuid) < 0) return false;
    virDomainPtr fresh = virDomainLookupByUUID(virDomainGetConnect(d), uuid);
    if (!fresh) return false;
    *id = virDomainGetID(fresh);
    virDomainFree(fresh);
    return true;
  }, [id](Napi::Env env) -> Napi::Value {
    if (*id == static_cast<unsigned int>(-1)) return env.Undefined();
    return Napi::Number::New(env, *id);
  });
}

Napi::Value Domain::GetState(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<std::pair<int, int>>(0, 0);
  virDomainPtr d = dom_;
  return Call(info.Env(), "virDomainGetState", [d, out] { return virDomainGetState(d, &out->first, &out->second, 0) == 0; },
              [out](Napi::Env env) {
                Napi::Object o = Napi::Object::New(env);
                o.Set("stateCode", out->first);
                o.Set("reasonCode", out->second);
                return o;
              });
}

Napi::Value Domain::GetXmlDesc(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<std::string>();
  virDomainPtr d = dom_;
  unsigned int flags = Flags(info[0]);
  return Call(info.Env(), "virDomainGetXMLDesc", [d, out, flags] { return Take(virDomainGetXMLDesc(d, flags), *out); },
              [out](Napi::Env env) { return Napi::String::New(env, *out); });
}

Napi::Value Domain::IsPersistent(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<int>(0);
  virDomainPtr d = dom_;
  return Call(info.Env(), "virDomainIsPersistent", [d, out] { return (*out = virDomainIsPersistent(d)) >= 0; },
              [out](Napi::Env env) { return Napi::Boolean::New(env, *out == 1); });
}

Napi::Value Domain::IsActive(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<int>(0);
  virDomainPtr d = dom_;
  return Call(info.Env(), "virDomainIsActive", [d, out] { return (*out = virDomainIsActive(d)) >= 0; },
              [out](Napi::Env env) { return Napi::Boolean::New(env, *out == 1); });
}

Napi::Value Domain::HasManagedSave(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<int>(0);
  virDomainPtr d = dom_;
  return Call(info.Env(), "virDomainHasManagedSaveImage", [d, out] { return (*out = virDomainHasManagedSaveImage(d, 0)) >= 0; },
              [out](Napi::Env env) { return Napi::Boolean::New(env, *out == 1); });
}

Napi::Value Domain::Create(const Napi::CallbackInfo& info) { return Simple(info, "virDomainCreateWithFlags", virDomainCreateWithFlags); }
Napi::Value Domain::Shutdown(const Napi::CallbackInfo& info) { return Simple(info, "virDomainShutdownFlags", virDomainShutdownFlags); }
Napi::Value Domain::Reboot(const Napi::CallbackInfo& info) { return Simple(info, "virDomainReboot", virDomainReboot); }
Napi::Value Domain::Destroy(const Napi::CallbackInfo& info) { return Simple(info, "virDomainDestroyFlags", virDomainDestroyFlags); }
Napi::Value Domain::Undefine(const Napi::CallbackInfo& info) { return Simple(info, "virDomainUndefineFlags", virDomainUndefineFlags); }
Napi::Value Domain::ManagedSave(const Napi::CallbackInfo& info) { return Simple(info, "virDomainManagedSave", virDomainManagedSave); }
Napi::Value Domain::ManagedSaveRemove(const Napi::CallbackInfo& info) { return Simple(info, "virDomainManagedSaveRemove", virDomainManagedSaveRemove); }

Napi::Value Domain::Suspend(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  return Call(info.Env(), "virDomainSuspend", [d] { return virDomainSuspend(d) == 0; });
}

Napi::Value Domain::Resume(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  return Call(info.Env(), "virDomainResume", [d] { return virDomainResume(d) == 0; });
}

}  // namespace wv
