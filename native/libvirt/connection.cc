#include "connection.h"
#include <libvirt/virterror.h>
#include <vector>
#include "domain.h"
#include "events.h"
#include "handles.h"
#include "network.h"
#include "worker.h"

namespace wv {

Napi::FunctionReference Connection::constructor_;

void Connection::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "NativeConnection", {
      InstanceAccessor("uri", &Connection::Uri, nullptr),
      InstanceMethod("close", &Connection::Close),
      InstanceMethod("isAlive", &Connection::IsAlive),
      InstanceMethod("hostname", &Connection::Hostname),
      InstanceMethod("libVersion", &Connection::LibVersion),
      InstanceMethod("nodeInfo", &Connection::NodeInfo),
      InstanceMethod("nodeFreeMemory", &Connection::NodeFreeMemory),
      InstanceMethod("listAllDomains", &Connection::ListAllDomains),
      InstanceMethod("listDomainNames", &Connection::ListDomainNames),
      InstanceMethod("listActiveDomainIds", &Connection::ListActiveDomainIds),
      InstanceMethod("readAllDomains", &Connection::ReadAllDomains),
      InstanceMethod("lookupDomainByName", &Connection::LookupDomainByName),
      InstanceMethod("lookupDomainById", &Connection::LookupDomainById),
      InstanceMethod("lookupDomainByUuid", &Connection::LookupDomainByUuid),
      InstanceMethod("defineDomain", &Connection::DefineDomain),
      InstanceMethod("createDomain", &Connection::CreateDomain),
      InstanceMethod("listAllNetworks", &Connection::ListAllNetworks),
      InstanceMethod("lookupNetworkByName", &Connection::LookupNetworkByName),
      InstanceMethod("defineNetwork", &Connection::DefineNetwork),
      InstanceMethod("createNetwork", &Connection::CreateNetwork),
      InstanceMethod("lookupStoragePoolByTargetPath", &Connection::LookupStoragePoolByTargetPath),
      InstanceMethod("createStoragePool", &Connection::CreateStoragePool),
      InstanceMethod("lookupStorageVolByPath", &Connection::LookupStorageVolByPath),
      InstanceMethod("setEventSink", &Connection::SetEventSink),
      InstanceMethod("enableDomainEvents", &Connection::EnableDomainEvents),
      InstanceMethod("disableDomainEvents", &Connection::DisableDomainEvents),
  });
  constructor_ = Napi::Persistent(ctor);
  constructor_.SuppressDestruct();  // static: outlives the environment
  exports.Set("openConnection", Napi::Function::New(env, &Connection::Open));
}

Connection::Connection(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Connection>(info) {
  if (!info[0].IsExternal()) NAPI_THROW_VOID(Napi::TypeError::New(info.Env(), "connections come from openConnection()"));
  state_ = *info[0].As<Napi::External<std::shared_ptr<ConnState>>>().Data();
}

Connection::~Connection() {
  // Garbage collected without close(): drop our reference off the main thread (the last
  // reference of a remote connection says goodbye to the daemon).
  if (state_->sink) napi_delete_reference(Env(), state_->sink);
  state_->sink = nullptr;
  if (!state_->closed.exchange(true)) {
    auto state = state_;
    RunOnPool([state] {
      DeregisterDomainEvents(*state);
      UnregisterCloseCallback(*state);
      virConnectClose(state->conn);
    });
  }
}

// openConnection(uri, readOnly, keepAliveIntervalS, keepAliveCount)
Napi::Value Connection::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto state = std::make_shared<ConnState>();
  state->uri = info[0].As<Napi::String>().Utf8Value();
  bool readOnly = info[1].ToBoolean();
  int interval = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 5;
  unsigned int count = info[3].IsNumber() ? info[3].As<Napi::Number>().Uint32Value() : 3;
  return Submit(env, "virConnectOpen", nullptr, {}, [state, readOnly, interval, count] {
    state->conn = virConnectOpenAuth(state->uri.c_str(), nullptr, readOnly ? VIR_CONNECT_RO : 0);
    if (!state->conn) return false;
    // Remote drivers only; the others (test:///default) answer NO_SUPPORT, which is fine.
    if (interval > 0 && virConnectSetKeepAlive(state->conn, interval, count) < 0) virResetLastError();
    if (!RegisterCloseCallback(state)) virResetLastError();
    return true;
  }, [state](Napi::Env env) -> Napi::Value {
    return constructor_.New({Napi::External<std::shared_ptr<ConnState>>::New(env, new std::shared_ptr<ConnState>(state), [](Napi::Env, std::shared_ptr<ConnState>* p) { delete p; })});
  });
}

Napi::Value Connection::Call(Napi::Env env, const char* call, std::function<bool()> exec, std::function<Napi::Value(Napi::Env)> done) {
  Hold hold;
  hold.conn = state_->conn;
  return Submit(env, call, state_, hold, std::move(exec), std::move(done));
}

Napi::Value Connection::Uri(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), state_->uri); }

Napi::Value Connection::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_->closed.exchange(true)) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(env.Undefined());
    return d.Promise();
  }
  if (state_->sink) napi_delete_reference(env, state_->sink);
  state_->sink = nullptr;
  if (state_->eventsHeld) HoldLoop(-1);
  state_->eventsHeld = false;
  auto state = state_;
  // Not through the closed check: this call consumes the connection's own reference.
  return Submit(env, "virConnectClose", nullptr, {}, [state] {
    DeregisterDomainEvents(*state);
    UnregisterCloseCallback(*state);
    virResetLastError();
    return virConnectClose(state->conn) >= 0;
  });
}

Napi::Value Connection::IsAlive(const Napi::CallbackInfo& info) {
  auto alive = std::make_shared<int>(0);
  virConnectPtr c = state_->conn;
  return Call(info.Env(), "virConnectIsAlive", [c, alive] { return (*alive = virConnectIsAlive(c)) >= 0; },
              [alive](Napi::Env env) { return Napi::Boolean::New(env, *alive == 1); });
}

Napi::Value Connection::Hostname(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<std::string>();
  virConnectPtr c = state_->conn;
  return Call(info.Env(), "virConnectGetHostname", [c, out] { return Take(virConnectGetHostname(c), *out); },
              [out](Napi::Env env) { return Napi::String::New(env, *out); });
}

Napi::Value Connection::LibVersion(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<unsigned long>(0);
  virConnectPtr c = state_->conn;
  return Call(info.Env(), "virConnectGetLibVersion", [c, out] { return virConnectGetLibVersion(c, out.get()) == 0; },
              [out](Napi::Env env) { return Napi::Number::New(env, static_cast<double>(*out)); });
}

Napi::Value Connection::NodeInfo(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<virNodeInfo>();
  virConnectPtr c = state_->conn;
  return Call(info.Env(), "virNodeGetInfo", [c, out] { return virNodeGetInfo(c, out.get()) == 0; }, [out](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("model", std::string(out->model, strnlen(out->model, sizeof out->model)));
    o.Set("memoryKiB", static_cast<double>(out->memory));
    o.Set("cpus", out->cpus);
    o.Set("mhz", out->mhz);
    o.Set("nodes", out->nodes);
    o.Set("sockets", out->sockets);
    o.Set("cores", out->cores);
    o.Set("threads", out->threads);
    return o;
  });
}

Napi::Value Connection::NodeFreeMemory(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<unsigned long long>(0);
  virConnectPtr c = state_->conn;
  return Call(info.Env(), "virNodeGetFreeMemory", [c, out] {
    virResetLastError();
    *out = virNodeGetFreeMemory(c);
    return *out != 0 || !virGetLastError();  // 0 is its error value
  }, [out](Napi::Env env) { return Napi::Number::New(env, static_cast<double>(*out)); });
}

// listAllDomains(flags): Domain handles
Napi::Value Connection::ListAllDomains(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<std::vector<DomainId>>();
  virConnectPtr c = state_->conn;
  unsigned int flags = Flags(info[0]);
  auto state = state_;
  return Call(info.Env(), "virConnectListAllDomains", [c, out, flags] {
    virDomainPtr* doms = nullptr;
    int n = virConnectListAllDomains(c, &doms, flags);
    if (n < 0) return false;
    for (int i = 0; i < n; ++i) out->push_back(IdentifyDomain(doms[i]));
    free(doms);
    return true;
  }, [out, state](Napi::Env env) {
    Napi::Array a = Napi::Array::New(env, out->size());
    for (size_t i = 0; i < out->size(); ++i) a.Set(i, Domain::New(env, state, (*out)[i]));
    out->clear();
    return a;
  });
}

// listDomainNames(flags): names only, the handles freed on the pool thread
Napi::Value Connection::ListDomainNames(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<std::vector<std::string>>();
  virConnectPtr c = state_->conn;
  unsigned int flags = Flags(info[0]);
  return Call(info.Env(), "virConnectListAllDomains", [c, out, flags] {
    virDomainPtr* doms = nullptr;
    int n = virConnectListAllDomains(c, &doms, flags);
    if (n < 0) return false;
    for (int i = 0; i < n; ++i) {
      const char* name = virDomainGetName(doms[i]);
      out->push_back(name ? name : "");
      virDomainFree(doms[i]);
    }
    free(doms);
    return true;
  }, [out](Napi::Env env) {
    Napi::Array a = Napi::Array::New(env, out->size());
    for (size_t i = 0; i < out->size(); ++i) a.Set(i, (*out)[i]);
    return a;
  });
}

Napi::Value Connection::ListActiveDomainIds(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<std::vector<unsigned int>>();
  virConnectPtr c = state_->conn;
  return Call(info.Env(), "virConnectListAllDomains", [c, out] {
    virDomainPtr* doms = nullptr;
    int n = virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) return false;
    for (int i = 0; i < n; ++i) {
      out->push_back(virDomainGetID(doms[i]));
      virDomainFree(doms[i]);
    }
    free(doms);
    return true;
  }, [out](Napi::Env env) {
    Napi::Array a = Napi::Array::New(env, out->size());
    for (size_t i = 0; i < out->size(); ++i) a.Set(i, (*out)[i]);
    return a;
  });
}

Napi::Value Connection::DomainCall(Napi::Env env, const char* call, std::function<virDomainPtr()> exec) {
  auto out = std::make_shared<DomainId>();
  auto state = state_;
  return Call(env, call, [out, exec] {
    virDomainPtr d = exec();
    if (!d) return false;
    *out = IdentifyDomain(d);
    return true;
  }, [out, state](Napi::Env env) { return Domain::New(env, state, *out); });
}

Napi::Value Connection::LookupDomainByName(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  virConnectPtr c = state_->conn;
  return DomainCall(info.Env(), "virDomainLookupByName", [c, name] { return virDomainLookupByName(c, name.c_str()); });
}

Napi::Value Connection::LookupDomainById(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  virConnectPtr c = state_->conn;
  return DomainCall(info.Env(), "virDomainLookupByID", [c, id] { return virDomainLookupByID(c, id); });
}

Napi::Value Connection::LookupDomainByUuid(const Napi::CallbackInfo& info) {
  std::string uuid = info[0].As<Napi::String>();
  virConnectPtr c = state_->conn;
  return DomainCall(info.Env(), "virDomainLookupByUUIDString", [c, uuid] { return virDomainLookupByUUIDString(c, uuid.c_str()); });
}

Napi::Value Connection::DefineDomain(const Napi::CallbackInfo& info) {
  std::string xml = info[0].As<Napi::String>();
  virConnectPtr c = state_->conn;
  return DomainCall(info.Env(), "virDomainDefineXML", [c, xml] { return virDomainDefineXML(c, xml.c_str()); });
}

// createDomain(xml, flags): a transient domain, started
Napi::Value Connection::CreateDomain(const Napi::CallbackInfo& info) {
  std::string xml = info[0].As<Napi::String>();
  unsigned int flags = Flags(info[1]);
  virConnectPtr c = state_->conn;
  return DomainCall(info.Env(), "virDomainCreateXML", [c, xml, flags] { return virDomainCreateXML(c, xml.c_str(), flags); });
}

Napi::Value Connection::NetworkCall(Napi::Env env, const char* call, std::function<virNetworkPtr()> exec) {
  auto out = std::make_shared<NetworkId>();
  auto state = state_;
  return Call(env, call, [out, exec] {
    virNetworkPtr n = exec();
    if (!n) return false;
    *out = IdentifyNetwork(n);
    return true;
  }, [out, state](Napi::Env env) { return Network::New(env, state, *out); });
}

Napi::Value Connection::ListAllNetworks(const Napi::CallbackInfo& info) {
  auto out = std::make_shared<std::vector<NetworkId>>();
  virConnectPtr c = state_->conn;
  unsigned int flags = Flags(info[0]);
  auto state = state_;
  return Call(info.Env(), "virConnectListAllNetworks", [c, out, flags] {
    virNetworkPtr* nets = nullptr;
    int n = virConnectListAllNetworks(c, &nets, flags);
    if (n < 0) return false;
    for (int i = 0; i < n; ++i) out->push_back(IdentifyNetwork(nets[i]));
    free(nets);
    return true;
  }, [out, state](Napi::Env env) {
    Napi::Array a = Napi::Array::New(env, out->size());
    for (size_t i = 0; i < out->size(); ++i) a.Set(i, Network::New(env, state, (*out)[i]));
    out->clear();
    return a;
  });
}

Napi::Value Connection::LookupNetworkByName(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  virConnectPtr c = state_->conn;
  return NetworkCall(info.Env(), "virNetworkLookupByName", [c, name] { return virNetworkLookupByName(c, name.c_str()); });
}

Napi::Value Connection::DefineNetwork(const Napi::CallbackInfo& info) {
  std::string xml = info[0].As<Napi::String>();
  virConnectPtr c = state_->conn;
  return NetworkCall(info.Env(), "virNetworkDefineXML", [c, xml] { return virNetworkDefineXML(c, xml.c_str()); });
}

Napi::Value Connection::CreateNetwork(const Napi::CallbackInfo& info) {
  std::string xml = info[0].As<Napi::String>();
  virConnectPtr c = state_->conn;
  return NetworkCall(info.Env(), "virNetworkCreateXML", [c, xml] { return virNetworkCreateXML(c, xml.c_str()); });
}

Napi::Value Connection::SetEventSink(const Napi::CallbackInfo& info) {
  if (state_->sink) napi_delete_reference(info.Env(), state_->sink);
  state_->sink = nullptr;
  if (info[0].IsFunction() && !state_->closed) napi_create_reference(info.Env(), info[0], 1, &state_->sink);
  return info.Env().Undefined();
}

// While domain events are listened to, Node stays up (as it does for a socket being read).
Napi::Value Connection::EnableDomainEvents(const Napi::CallbackInfo& info) {
  auto state = state_;
  Napi::Value p = Call(info.Env(), "virConnectDomainEventRegisterAny", [state] { return RegisterDomainEvents(state); });
  if (!state_->closed && !state_->eventsHeld) {
    state_->eventsHeld = true;
    HoldLoop(1);
  }
  return p;
}

Napi::Value Connection::DisableDomainEvents(const Napi::CallbackInfo& info) {
  if (state_->eventsHeld) HoldLoop(-1);
  state_->eventsHeld = false;
  auto state = state_;
  return Call(info.Env(), "virConnectDomainEventDeregisterAny", [state] { return DeregisterDomainEvents(*state); });
}

}  // namespace wv
