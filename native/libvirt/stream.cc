#include "stream.h"
#include <libvirt/virterror.h>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>
#include "errors.h"
#include "worker.h"

namespace wv {

struct StreamState {
  std::shared_ptr<ConnState> conn;
  virStreamPtr st = nullptr;
  napi_ref sink = nullptr;          // main thread; strong while data may still come
  std::atomic<bool> ended{false};   // EOF, error or close(): no more data delivered
  bool watching = false;            // pool/event thread: the event callback is registered
};

namespace {

using StatePtr = std::shared_ptr<StreamState>;

// Main thread: the sink receives (chunk) for data, (null, undefined) at EOF, (null, error) on error.
void Deliver(const StatePtr& s, std::function<std::vector<napi_value>(Napi::Env)> args, bool last) {
  PostToMain([s, args = std::move(args), last](Napi::Env env) {
    if (!s->sink) return;
    napi_value fn;
    napi_get_reference_value(env, s->sink, &fn);
    if (last) {
      napi_delete_reference(env, s->sink);
      s->sink = nullptr;
    }
    if (fn) Napi::Function(env, fn).Call(args(env));
  });
}

void End(const StatePtr& s, bool failed, const ErrorInfo& err) {
  if (s->ended.exchange(true)) return;
  Deliver(s, [failed, err](Napi::Env env) -> std::vector<napi_value> {
    return {env.Null(), failed ? MakeError(env, err) : env.Undefined()};
  }, true);
  virStreamPtr st = s->st;
  RunOnPool([s, st, failed] {
    virStreamEventRemoveCallback(st);
    if (failed ? virStreamAbort(st) < 0 : virStreamFinish(st) < 0) virResetLastError();
  });
}

void OnStreamEvent(virStreamPtr st, int, void* opaque) {
  const StatePtr& s = *static_cast<StatePtr*>(opaque);
  if (s->ended) return;
  char buf[64 * 1024];
  for (;;) {
    int n = virStreamRecv(st, buf, sizeof buf);
    if (n > 0) {
      auto chunk = std::make_shared<std::string>(buf, n);
      Deliver(s, [chunk](Napi::Env env) -> std::vector<napi_value> { return {Napi::Buffer<char>::Copy(env, chunk->data(), chunk->size())}; }, false);
      continue;
    }
    if (n == -2) return;  // nothing more for now
    if (n == 0) End(s, false, {});
    else End(s, true, CaptureLastError("virStreamRecv"));
    return;
  }
}

void FreeOpaque(void* opaque) { delete static_cast<StatePtr*>(opaque); }

}  // namespace

Napi::FunctionReference Stream::constructor_;

void Stream::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "NativeStream", {
      InstanceMethod("start", &Stream::Start),
      InstanceMethod("write", &Stream::Write),
      InstanceMethod("close", &Stream::Close),
  });
  constructor_ = Napi::Persistent(ctor);
  constructor_.SuppressDestruct();  // static: outlives the environment
}

Napi::Object Stream::New(Napi::Env env, const std::shared_ptr<ConnState>& conn, virStreamPtr st) {
  Napi::Object o = constructor_.New({});
  Stream* s = Unwrap(o);
  s->state_->conn = conn;
  s->state_->st = st;
  return o;
}

Stream::Stream(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Stream>(info), state_(std::make_shared<StreamState>()) {}

Stream::~Stream() {
  if (state_->sink) napi_delete_reference(Env(), state_->sink);
  state_->sink = nullptr;
  if (!state_->st) return;
  auto s = state_;
  RunOnPool([s] {
    if (!s->ended.exchange(true)) {
      virStreamEventRemoveCallback(s->st);
      virStreamAbort(s->st);
    }
    virResetLastError();
    virStreamFree(s->st);
  });
}

// start(sink): data flows to sink from now on
Napi::Value Stream::Start(const Napi::CallbackInfo& info) {
  if (state_->sink) napi_delete_reference(info.Env(), state_->sink);
  napi_create_reference(info.Env(), info[0], 1, &state_->sink);
  auto s = state_;
  Hold hold;
  hold.stream = s->st;
  return Submit(info.Env(), "virStreamEventAddCallback", s->conn, hold, [s] {
    int events = VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;
    if (virStreamEventAddCallback(s->st, events, OnStreamEvent, new StatePtr(s), FreeOpaque) < 0) return false;
    s->watching = true;
    return true;
  });
}

Napi::Value Stream::Write(const Napi::CallbackInfo& info) {
  auto s = state_;
  auto data = std::make_shared<std::string>();
  if (info[0].IsBuffer()) {
    auto b = info[0].As<Napi::Buffer<char>>();
    data->assign(b.Data(), b.Length());
  } else {
    *data = info[0].ToString().Utf8Value();
  }
  Hold hold;
  hold.stream = s->st;
  return Submit(info.Env(), "virStreamSend", s->conn, hold, [s, data] {
    size_t off = 0;
    while (off < data->size()) {
      if (s->ended) {
        return false;
      }
      int n = virStreamSend(s->st, data->data() + off, data->size() - off);
      if (n == -2) {
        // Non-blocking and full: the console drains in milliseconds.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (n < 0) return false;
      off += n;
    }
    return true;
  });
}

Napi::Value Stream::Close(const Napi::CallbackInfo& info) {
  auto s = state_;
  if (s->sink) napi_delete_reference(info.Env(), s->sink);
  s->sink = nullptr;
  Hold hold;
  hold.stream = s->st;
  return Submit(info.Env(), "virStreamAbort", nullptr, hold, [s] {
    if (s->ended.exchange(true)) return true;
    virStreamEventRemoveCallback(s->st);
    virStreamAbort(s->st);
    virResetLastError();
    return true;
  });
}

}  // namespace wv
