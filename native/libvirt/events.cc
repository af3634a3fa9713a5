#include "events.h"
#include <libvirt/virterror.h>
#include <napi.h>
#include <mutex>
#include <string>
#include <thread>
#include "worker.h"

namespace wv {
namespace {

/** A domain event, copied out of libvirt's callback (its pointers live only during the call). */
struct Event {
  const char* kind;
  std::string name;
  char uuid[VIR_UUID_STRING_BUFLEN] = "";
  int id = -1;
  int a = 0, b = 0;  // lifecycle: event, detail; metadata-change: type
  std::string text;  // device-removed: alias; metadata-change: nsuri
  bool hasText = false;
};

using StatePtr = std::shared_ptr<ConnState>;

void Deliver(const StatePtr& state, std::function<Napi::Object(Napi::Env)> build) {
  PostToMain([state, build = std::move(build)](Napi::Env env) {
    if (state->closed || !state->sink) return;
    napi_value fn;
    if (napi_get_reference_value(env, state->sink, &fn) != napi_ok || !fn) return;
    Napi::Function(env, fn).Call({build(env)});
  });
}

void DeliverEvent(void* opaque, virDomainPtr dom, Event ev) {
  const StatePtr& state = *static_cast<StatePtr*>(opaque);
  if (state->closed) return;
  const char* name = virDomainGetName(dom);
  ev.name = name ? name : "";
  virDomainGetUUIDString(dom, ev.uuid);
  unsigned int id = virDomainGetID(dom);
  ev.id = id == static_cast<unsigned int>(-1) ? -1 : static_cast<int>(id);
  Deliver(state, [ev](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", ev.kind);
    o.Set("name", ev.name);
    o.Set("uuid", ev.uuid);
    o.Set("id", ev.id);
    if (std::string(ev.kind) == "lifecycle") {
      o.Set("eventCode", ev.a);
      o.Set("detailCode", ev.b);
    } else if (std::string(ev.kind) == "device-removed") {
      o.Set("alias", ev.text);
    } else if (std::string(ev.kind) == "metadata-change") {
      o.Set("type", ev.a);
      o.Set("nsuri", ev.hasText ? Napi::Value(Napi::String::New(env, ev.text)) : env.Null());
    }
    return o;
  });
}

int OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  Event ev;
  ev.kind = "lifecycle";
  ev.a = event;
  ev.b = detail;
  DeliverEvent(opaque, dom, std::move(ev));
  return 0;
}

void OnReboot(virConnectPtr, virDomainPtr dom, void* opaque) {
  Event ev;
  ev.kind = "reboot";
  DeliverEvent(opaque, dom, std::move(ev));
}

void OnDeviceRemoved(virConnectPtr, virDomainPtr dom, const char* alias, void* opaque) {
  Event ev;
  ev.kind = "device-removed";
  ev.text = alias ? alias : "";
  DeliverEvent(opaque, dom, std::move(ev));
}

void OnMetadataChange(virConnectPtr, virDomainPtr dom, int type, const char* nsuri, void* opaque) {
  Event ev;
  ev.kind = "metadata-change";
  ev.a = type;
  ev.hasText = nsuri != nullptr;
  ev.text = nsuri ? nsuri : "";
  DeliverEvent(opaque, dom, std::move(ev));
}

void OnClose(virConnectPtr, int reason, void* opaque) {
  const StatePtr& state = *static_cast<StatePtr*>(opaque);
  Deliver(state, [reason](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", "close");
    o.Set("reasonCode", reason);
    return o;
  });
}

void FreeState(void* opaque) { delete static_cast<StatePtr*>(opaque); }

const struct {
  int id;
  virConnectDomainEventGenericCallback cb;
} kEvents[4] = {
    {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(OnLifecycle)},
    {VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(OnReboot)},
    {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(OnDeviceRemoved)},
    {VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnMetadataChange)},
};

}  // namespace

void StartEventLoop() {
  static std::once_flag once;
  std::call_once(once, [] {
    virInitialize();
    virEventRegisterDefaultImpl();
    // Detached: it never ends, and never keeps Node up (what does is the threadsafe
    // function's reference, held only while calls are in flight or events are listened to).
    std::thread([] {
      for (;;) virEventRunDefaultImpl();
    }).detach();
  });
}

bool RegisterDomainEvents(const StatePtr& state) {
  std::lock_guard<std::mutex> lock(state->eventsMutex);
  if (state->closed) return true;  // close() came first: nothing to listen to
  for (int i = 0; i < 4; ++i) {
    if (state->eventIds[i] >= 0) continue;
    int id = virConnectDomainEventRegisterAny(state->conn, nullptr, kEvents[i].id, kEvents[i].cb, new StatePtr(state), FreeState);
    if (id < 0) {
      return false;
    }
    state->eventIds[i] = id;
  }
  return true;
}

bool DeregisterDomainEvents(ConnState& state) {
  std::lock_guard<std::mutex> lock(state.eventsMutex);
  bool ok = true;
  for (int& id : state.eventIds) {
    if (id < 0) continue;
    if (virConnectDomainEventDeregisterAny(state.conn, id) < 0) ok = false;
    id = -1;
  }
  return ok;
}

bool RegisterCloseCallback(const StatePtr& state) {
  return virConnectRegisterCloseCallback(state->conn, OnClose, new StatePtr(state), FreeState) == 0;
}

void UnregisterCloseCallback(ConnState& state) {
  if (virConnectUnregisterCloseCallback(state.conn, OnClose) < 0) virResetLastError();
}

}  // namespace wv
