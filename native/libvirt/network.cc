#include "network.h"
#include <vector>
#include "worker.h"

namespace wv {

Napi::FunctionReference Network::constructor_;

void Network::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "NativeNetwork", {
      InstanceAccessor("name", &Network::Name, nullptr),
      InstanceAccessor("uuid", &Network::Uuid, nullptr),
      InstanceMethod("isActive", &Network::IsActive),
      InstanceMethod("getXmlDesc", &Network::GetXmlDesc),
      InstanceMethod("create", &Network::Create),
      InstanceMethod("destroy", &Network::Destroy),
      InstanceMethod("undefine", &Network::Undefine),
      InstanceMethod("update", &Network::Update),
      InstanceMethod("dhcpLeases", &Network::DhcpLeases),
  });
  constructor_ = Napi::Persistent(ctor);
  constructor_.SuppressDestruct();  // static: outlives the environment
}

Napi::Object Network::New(Napi::Env env, const std::shared_ptr<ConnState>& state, const NetworkId& id) {
  Napi::Object o = constructor_.New({});
  Network* n = Unwrap(o);
  n->state_ = state;
  n->net_ = id.ptr;
  n->name_ = id.name;
  n->uuid_ = id.uuid;
  return o;
}

Network::Network(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Network>(info) {}

Network::~Network() {
  if (!net_) return;
  virNetworkPtr n = net_;
  RunOnPool([n] { virNetworkFree(n); });
}

Napi::Value Network::Call(Napi::Env env, const char* call, std::function<bool()> exec, std::function<Napi::Value(Napi::Env)> done) {
  if (!net_) NAPI_THROW(Napi::TypeError::New(env, "networks come from a Connection"), Napi::Value());
  Hold hold;
  hold.net = net_;
  return Submit(env, call, state_, hold, std::move(exec), std::move(done));
}

Napi::Value Network::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
Napi::Value Network::Uuid(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), uuid_); }

Napi::Value Network::IsActive(const Napi::CallbackInfo& info) {
  virNetworkPtr n = net_;
  auto out = std::make_shared<int>(0);
  return Call(info.Env(), "virNetworkIsActive", [n, out] { return (*out = virNetworkIsActive(n)) >= 0; },
              [out](Napi::Env env) { return Napi::Boolean::New(env, *out == 1); });
}

Napi::Value Network::GetXmlDesc(const Napi::CallbackInfo& info) {
  virNetworkPtr n = net_;
  unsigned int flags = Flags(info[0]);
  auto out = std::make_shared<std::string>();
  return Call(info.Env(), "virNetworkGetXMLDesc", [n, flags, out] { return Take(virNetworkGetXMLDesc(n, flags), *out); },
              [out](Napi::Env env) { return Napi::String::New(env, *out); });
}

Napi::Value Network::Create(const Napi::CallbackInfo& info) {
  virNetworkPtr n = net_;
  return Call(info.Env(), "virNetworkCreate", [n] { return virNetworkCreate(n) == 0; });
}

Napi::Value Network::Destroy(const Napi::CallbackInfo& info) {
  virNetworkPtr n = net_;
  return Call(info.Env(), "virNetworkDestroy", [n] { return virNetworkDestroy(n) == 0; });
}

Napi::Value Network::Undefine(const Napi::CallbackInfo& info) {
  virNetworkPtr n = net_;
  return Call(info.Env(), "virNetworkUndefine", [n] { return virNetworkUndefine(n) == 0; });
}

// update(command, section, parentIndex, xml, flags)
Napi::Value Network::Update(const Napi::CallbackInfo& info) {
  virNetworkPtr n = net_;
  unsigned int command = info[0].As<Napi::Number>().Uint32Value();
  unsigned int section = info[1].As<Napi::Number>().Uint32Value();
  int parentIndex = info[2].As<Napi::Number>().Int32Value();
  auto xml = std::make_shared<std::string>(info[3].As<Napi::String>().Utf8Value());
  unsigned int flags = Flags(info[4]);
  return Call(info.Env(), "virNetworkUpdate", [=] { return virNetworkUpdate(n, command, section, parentIndex, xml->c_str(), flags) == 0; });
}

namespace {
struct Lease {
  std::string iface, mac, ipaddr, hostname, clientid;
  bool hasHostname = false, hasClientid = false;
  long long expiry = 0;
  int type = 0;
  unsigned int prefix = 0;
};
}  // namespace

Napi::Value Network::DhcpLeases(const Napi::CallbackInfo& info) {
  virNetworkPtr n = net_;
  auto mac = info[0].IsString() ? std::make_shared<std::string>(info[0].As<Napi::String>().Utf8Value()) : nullptr;
  auto out = std::make_shared<std::vector<Lease>>();
  return Call(info.Env(), "virNetworkGetDHCPLeases", [n, mac, out] {
    virNetworkDHCPLeasePtr* leases = nullptr;
    int count = virNetworkGetDHCPLeases(n, mac ? mac->c_str() : nullptr, &leases, 0);
    if (count < 0) return false;
    for (int i = 0; i < count; ++i) {
      virNetworkDHCPLeasePtr l = leases[i];
      Lease x;
      x.iface = l->iface ? l->iface : "";
      x.mac = l->mac ? l->mac : "";
      x.ipaddr = l->ipaddr ? l->ipaddr : "";
      x.hasHostname = l->hostname != nullptr;
      if (l->hostname) x.hostname = l->hostname;
      x.hasClientid = l->clientid != nullptr;
      if (l->clientid) x.clientid = l->clientid;
      x.expiry = l->expirytime;
      x.type = l->type;
      x.prefix = l->prefix;
      out->push_back(std::move(x));
      virNetworkDHCPLeaseFree(l);
    }
    free(leases);
    return true;
  }, [out](Napi::Env env) {
    Napi::Array a = Napi::Array::New(env, out->size());
    for (size_t i = 0; i < out->size(); ++i) {
      const Lease& l = (*out)[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("iface", l.iface);
      o.Set("expiryTime", static_cast<double>(l.expiry));
      o.Set("type", l.type);
      o.Set("mac", l.mac);
      o.Set("ipaddr", l.ipaddr);
      o.Set("prefix", l.prefix);
      if (l.hasHostname) o.Set("hostname", l.hostname);
      if (l.hasClientid) o.Set("clientid", l.clientid);
      a.Set(i, o);
    }
    return a;
  });
}

}  // namespace wv
