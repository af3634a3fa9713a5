// The async-call machinery: a libvirt call runs on the binding's own thread pool (not libuv's:
// a libvirt call may block for the keepalive timeout or a whole migration, and libuv's four
// threads also serve fs, dns, zlib and crypto), holding libvirt references on the handles it
// uses; its result or error comes back to the main thread through one threadsafe function.
#pragma once
#include <libvirt/libvirt.h>
#include <napi.h>
#include <functional>
#include <memory>
#include "conn-state.h"

namespace wv {

/** The libvirt references a call holds while it runs: taken on the main thread when the call
 *  is made, so garbage collection of the JS handle cannot free a pointer a worker uses, and
 *  dropped on the pool thread when it is done. */
struct Hold {
  virConnectPtr conn = nullptr;
  virDomainPtr dom = nullptr;
  virNetworkPtr net = nullptr;
  virStreamPtr stream = nullptr;
  void Acquire();
  void Release();
};

/** Runs on a pool thread; returns false when libvirt failed (its error is read right after, on that thread). */
using Exec = std::function<bool()>;
/** Runs on the main thread after a successful Exec; returns what the promise resolves to. */
using Done = std::function<Napi::Value(Napi::Env)>;

/** A Promise for one libvirt call. Rejects at once, without reaching libvirt, if `state` is closed. */
Napi::Value Submit(Napi::Env env, const char* call, const std::shared_ptr<ConnState>& state, Hold hold, Exec exec, Done done = nullptr);
/** Fire-and-forget work on the pool (frees that may close a connection, which must not block the main thread). */
void RunOnPool(std::function<void()> fn);
/** From any thread: runs fn on the main thread (dropped once the environment is torn down). */
void PostToMain(std::function<void(Napi::Env)> fn);
/** Main thread: while the count is above zero (calls in flight, event subscriptions), Node stays up. */
void HoldLoop(int delta);
void InitWorker(Napi::Env env, Napi::Object exports);

}  // namespace wv
