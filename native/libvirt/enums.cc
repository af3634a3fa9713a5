#include "enums.h"
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string>

namespace wv {
namespace {

struct Member { const char* enumName; const char* name; long long value; };

const Member kMembers[] = {
#define WV_ENUM_BEGIN(e)
#define WV_ENUM_END(e)
#define WV_ENUM(e, m) {#e, #m, static_cast<long long>(m)},
#include "enums.inc"
#undef WV_ENUM
#undef WV_ENUM_BEGIN
#undef WV_ENUM_END
};

const char* Find(const char* enumName, long long value, const char* prefix, std::string& fallback) {
  for (const Member& m : kMembers)
    if (m.value == value && std::string(m.enumName) == enumName) return m.name;
  fallback = std::string(prefix) + std::to_string(value);
  return fallback.c_str();
}

}  // namespace

const char* ErrorCodeName(int code, std::string& fallback) { return Find("virErrorNumber", code, "VIR_ERR_", fallback); }
const char* ErrorDomainName(int domain, std::string& fallback) { return Find("virErrorDomain", domain, "VIR_FROM_", fallback); }

Napi::Object EnumsObject(Napi::Env env) {
  Napi::Object all = Napi::Object::New(env);
  for (const Member& m : kMembers) {
    Napi::Value group = all.Get(m.enumName);
    if (!group.IsObject()) {
      group = Napi::Object::New(env);
      all.Set(m.enumName, group);
    }
    group.As<Napi::Object>().Set(m.name, Napi::Number::New(env, static_cast<double>(m.value)));
  }
  return all;
}

}  // namespace wv
