// Changing a domain without redefining it: metadata, description, memory, vCPUs, devices.
#include <libvirt/virterror.h>
#include "domain.h"

namespace wv {

namespace {
/** A string argument that may be null (libvirt's "remove it"). */
std::shared_ptr<std::string> Optional(const Napi::Value& v) {
  return v.IsString() ? std::make_shared<std::string>(v.As<Napi::String>().Utf8Value()) : nullptr;
}
const char* Str(const std::shared_ptr<std::string>& s) { return s ? s->c_str() : nullptr; }
}  // namespace

// setMetadata(type, metadata|null, key|null, uri|null, flags)
Napi::Value Domain::SetMetadata(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  int type = info[0].As<Napi::Number>().Int32Value();
  auto metadata = Optional(info[1]), key = Optional(info[2]), uri = Optional(info[3]);
  unsigned int flags = Flags(info[4]);
  return Call(info.Env(), "virDomainSetMetadata", [=] {
    return virDomainSetMetadata(d, type, Str(metadata), Str(key), Str(uri), flags) == 0;
  });
}

// getMetadata(type, uri|null, flags): undefined when there is none (VIR_ERR_NO_DOMAIN_METADATA)
Napi::Value Domain::GetMetadata(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  int type = info[0].As<Napi::Number>().Int32Value();
  auto uri = Optional(info[1]);
  unsigned int flags = Flags(info[2]);
  auto out = std::make_shared<std::string>();
  auto absent = std::make_shared<bool>(false);
  return Call(info.Env(), "virDomainGetMetadata", [=] {
    if (Take(virDomainGetMetadata(d, type, Str(uri), flags), *out)) return true;
    virErrorPtr err = virGetLastError();
    if (!err || err->code != VIR_ERR_NO_DOMAIN_METADATA) return false;
    virResetLastError();
    return *absent = true;
  }, [out, absent](Napi::Env env) -> Napi::Value {
    if (*absent) return env.Undefined();
    return Napi::String::New(env, *out);
  });
}

Napi::Value Domain::SetMemory(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  unsigned long kib = static_cast<unsigned long>(info[0].As<Napi::Number>().Int64Value());
  unsigned int flags = Flags(info[1]);
  return Call(info.Env(), "virDomainSetMemoryFlags", [=] { return virDomainSetMemoryFlags(d, kib, flags) == 0; });
}

Napi::Value Domain::SetVcpus(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  unsigned int count = info[0].As<Napi::Number>().Uint32Value();
  unsigned int flags = Flags(info[1]);
  return Call(info.Env(), "virDomainSetVcpusFlags", [=] { return virDomainSetVcpusFlags(d, count, flags) == 0; });
}

namespace {
using DeviceFn = int (*)(virDomainPtr, const char*, unsigned int);
}

#define WV_DEVICE_CALL(Method, fn)                                                              \
  Napi::Value Domain::Method(const Napi::CallbackInfo& info) {                                  \
    virDomainPtr d = dom_;                                                                      \
    auto text = std::make_shared<std::string>(info[0].As<Napi::String>().Utf8Value());         \
    unsigned int flags = Flags(info[1]);                                                        \
    DeviceFn call = fn;                                                                         \
    return Call(info.Env(), #fn, [=] { return call(d, text->c_str(), flags) == 0; });           \
  }

WV_DEVICE_CALL(AttachDevice, virDomainAttachDeviceFlags)
WV_DEVICE_CALL(DetachDevice, virDomainDetachDeviceFlags)
WV_DEVICE_CALL(DetachDeviceAlias, virDomainDetachDeviceAlias)
WV_DEVICE_CALL(UpdateDevice, virDomainUpdateDeviceFlags)

}  // namespace wv
