#include "errors.h"
#include <libvirt/virterror.h>
#include "enums.h"

namespace wv {
namespace {
Napi::FunctionReference& errorClass = *new Napi::FunctionReference;  // main thread; not destroyed after the environment
}

ErrorInfo CaptureLastError(const char* call) {
  ErrorInfo info;
  info.call = call;
  virErrorPtr err = virGetLastError();
  if (err) {
    info.code = err->code;
    info.domain = err->domain;
    info.level = err->level;
    info.message = err->message ? err->message : "";
  } else {
    // Some calls fail without setting an error (libvirt bug or a precondition of ours).
    info.code = VIR_ERR_INTERNAL_ERROR;
    info.level = VIR_ERR_ERROR;
    info.message = std::string(call) + " failed without a libvirt error";
  }
  virResetLastError();
  return info;
}

ErrorInfo SyntheticError(int code, const char* call, const std::string& message) {
  ErrorInfo info;
  info.code = code;
  info.level = VIR_ERR_ERROR;
  info.call = call;
  info.message = message;
  return info;
}

Napi::Value MakeError(Napi::Env env, const ErrorInfo& info) {
  std::string codeFallback, domainFallback;
  Napi::Object fields = Napi::Object::New(env);
  fields.Set("message", info.message);
  fields.Set("code", info.code);
  fields.Set("codeName", ErrorCodeName(info.code, codeFallback));
  fields.Set("domain", info.domain);
  fields.Set("domainName", ErrorDomainName(info.domain, domainFallback));
  fields.Set("level", info.level);
  fields.Set("call", info.call);
  if (errorClass.IsEmpty()) {
    Napi::Error e = Napi::Error::New(env, info.message);
    for (const char* k : {"code", "codeName", "domain", "domainName", "level", "call"}) e.Set(k, fields.Get(k));
    return e.Value();
  }
  return errorClass.New({fields});
}

void InitErrors(Napi::Env env, Napi::Object exports) {
  // libvirt prints every error to stderr by default; the caller gets them as LibvirtError.
  virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
  exports.Set("setErrorClass", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  }));
}

}  // namespace wv
