// Moving a domain (virDomainMigrateToURI3 with typed parameters) and opening its console.
#include <libvirt/virterror.h>
#include "domain.h"
#include "stream.h"
#include "worker.h"

namespace wv {

namespace {
struct MigrateParams {
  std::vector<std::pair<const char*, std::string>> strings;
  bool hasBandwidth = false;
  unsigned long long bandwidth = 0;
};
}  // namespace

// migrateToUri3(destConnUri, { migrateUri, destName, destXml, persistentXml, bandwidthMiBs, listenAddress }, flags)
Napi::Value Domain::MigrateToUri3(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  auto dest = std::make_shared<std::string>(info[0].As<Napi::String>().Utf8Value());
  Napi::Object in = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
  unsigned int flags = Flags(info[2]);
  auto p = std::make_shared<MigrateParams>();
  const std::pair<const char*, const char*> names[] = {
      {"migrateUri", VIR_MIGRATE_PARAM_URI},       {"destName", VIR_MIGRATE_PARAM_DEST_NAME},
      {"destXml", VIR_MIGRATE_PARAM_DEST_XML},     {"persistentXml", VIR_MIGRATE_PARAM_PERSIST_XML},
      {"listenAddress", VIR_MIGRATE_PARAM_LISTEN_ADDRESS},
  };
  for (const auto& [js, param] : names) {
    Napi::Value v = in.Get(js);
    if (v.IsString()) p->strings.emplace_back(param, v.As<Napi::String>().Utf8Value());
  }
  if (in.Get("bandwidthMiBs").IsNumber()) {
    p->hasBandwidth = true;
    p->bandwidth = static_cast<unsigned long long>(in.Get("bandwidthMiBs").As<Napi::Number>().Int64Value());
  }
  return Call(info.Env(), "virDomainMigrateToURI3", [d, dest, p, flags] {
    virTypedParameterPtr params = nullptr;
    int n = 0, max = 0;
    bool ok = true;
    for (const auto& [name, value] : p->strings) ok = ok && virTypedParamsAddString(&params, &n, &max, name, value.c_str()) == 0;
    if (p->hasBandwidth) ok = ok && virTypedParamsAddULLong(&params, &n, &max, VIR_MIGRATE_PARAM_BANDWIDTH, p->bandwidth) == 0;
    ok = ok && virDomainMigrateToURI3(d, dest->c_str(), params, n, flags) == 0;
    virTypedParamsFree(params, n);
    return ok;
  });
}

// openConsole(devName|null, flags): a NativeStream, not yet started
Napi::Value Domain::OpenConsole(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  auto dev = info[0].IsString() ? std::make_shared<std::string>(info[0].As<Napi::String>().Utf8Value()) : nullptr;
  unsigned int flags = Flags(info[1]);
  // A stream that failed to open is freed with the call (after its error was read), not in it:
  // virStreamFree would clear the thread's error.
  auto st = std::shared_ptr<virStreamPtr>(new virStreamPtr(nullptr), [](virStreamPtr* p) {
    if (*p) virStreamFree(*p);
    delete p;
  });
  auto state = state_;
  return Call(info.Env(), "virDomainOpenConsole", [d, dev, flags, st] {
    *st = virStreamNew(virDomainGetConnect(d), VIR_STREAM_NONBLOCK);
    return *st && virDomainOpenConsole(d, dev ? dev->c_str() : nullptr, *st, flags) == 0;
  }, [st, state](Napi::Env env) {
    virStreamPtr s = *st;
    *st = nullptr;
    return Stream::New(env, state, s);
  });
}

}  // namespace wv
