// libvirt's error of the calling thread, copied so it can cross to the main thread and become
// a LibvirtError there (code and domain names come from the headers' enums, not from text).
#pragma once
#include <napi.h>
#include <string>

namespace wv {

struct ErrorInfo {
  int code = 0;
  int domain = 0;
  int level = 0;
  std::string message;
  std::string call;
};

/** Reads and clears virGetLastError() of this thread, naming the call that failed. */
ErrorInfo CaptureLastError(const char* call);
/** An error that libvirt never saw, e.g. a call on a closed connection. */
ErrorInfo SyntheticError(int code, const char* call, const std::string& message);
/** A LibvirtError instance (the class native.ts registers through setErrorClass). */
Napi::Value MakeError(Napi::Env env, const ErrorInfo& info);
void InitErrors(Napi::Env env, Napi::Object exports);

}  // namespace wv
