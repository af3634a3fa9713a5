// A non-blocking virStream (a domain's console): what arrives is read on libvirt's event-loop
// thread as it becomes readable and handed to a JS sink; writes and close run on the pool.
#pragma once
#include <napi.h>
#include <memory>
#include "conn-state.h"

namespace wv {

struct StreamState;

class Stream : public Napi::ObjectWrap<Stream> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  /** Takes ownership of st. */
  static Napi::Object New(Napi::Env env, const std::shared_ptr<ConnState>& conn, virStreamPtr st);
  explicit Stream(const Napi::CallbackInfo& info);
  ~Stream() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<StreamState> state_;
  static Napi::FunctionReference constructor_;
};

}  // namespace wv
