#include "storage.h"
#include <libvirt/virterror.h>
#include "connection.h"
#include "handles.h"
#include "worker.h"

namespace wv {

PoolId IdentifyPool(virStoragePoolPtr p) {
  if (!p) return {};
  char uuid[VIR_UUID_STRING_BUFLEN] = "";
  virStoragePoolGetUUIDString(p, uuid);
  const char* name = virStoragePoolGetName(p);
  return {PoolRef(p, [](virStoragePoolPtr x) { RunOnPool([x] { virStoragePoolFree(x); }); }), name ? name : "", uuid};
}

VolId IdentifyVol(virStorageVolPtr v) {
  if (!v) return {};
  const char* name = virStorageVolGetName(v);
  std::string path;
  if (!Take(virStorageVolGetPath(v), path)) virResetLastError();
  return {VolRef(v, [](virStorageVolPtr x) { RunOnPool([x] { virStorageVolFree(x); }); }), name ? name : "", path};
}

// ---- the connection's storage calls (declared in connection.h)

Napi::Value Connection::PoolCall(Napi::Env env, const char* call, std::function<virStoragePoolPtr()> exec) {
  auto out = std::make_shared<PoolId>();
  auto state = state_;
  return Call(env, call, [out, exec] {
    *out = IdentifyPool(exec());
    return out->ref != nullptr;
  }, [out, state](Napi::Env env) { return StoragePool::New(env, state, *out); });
}

Napi::Value Connection::LookupStoragePoolByTargetPath(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  virConnectPtr c = state_->conn;
  return PoolCall(info.Env(), "virStoragePoolLookupByTargetPath", [c, path] { return virStoragePoolLookupByTargetPath(c, path.c_str()); });
}

// createStoragePool(xml, flags): a transient pool, started
Napi::Value Connection::CreateStoragePool(const Napi::CallbackInfo& info) {
  std::string xml = info[0].As<Napi::String>();
  unsigned int flags = Flags(info[1]);
  virConnectPtr c = state_->conn;
  return PoolCall(info.Env(), "virStoragePoolCreateXML", [c, xml, flags] { return virStoragePoolCreateXML(c, xml.c_str(), flags); });
}

Napi::Value Connection::LookupStorageVolByPath(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  virConnectPtr c = state_->conn;
  auto out = std::make_shared<VolId>();
  auto state = state_;
  return Call(info.Env(), "virStorageVolLookupByPath", [c, path, out] {
    *out = IdentifyVol(virStorageVolLookupByPath(c, path.c_str()));
    return out->ref != nullptr;
  }, [out, state](Napi::Env env) { return StorageVolume::New(env, state, *out); });
}

// ---- pools

Napi::FunctionReference StoragePool::constructor_;

void StoragePool::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "NativeStoragePool", {
      InstanceAccessor("name", &StoragePool::Name, nullptr),
      InstanceAccessor("uuid", &StoragePool::Uuid, nullptr),
      InstanceMethod("refresh", &StoragePool::Refresh),
      InstanceMethod("destroy", &StoragePool::Destroy),
      InstanceMethod("getXmlDesc", &StoragePool::GetXmlDesc),
      InstanceMethod("createVolume", &StoragePool::CreateVolume),
  });
  constructor_ = Napi::Persistent(ctor);
  constructor_.SuppressDestruct();  // static: outlives the environment
}

Napi::Object StoragePool::New(Napi::Env env, const std::shared_ptr<ConnState>& state, const PoolId& id) {
  Napi::Object o = constructor_.New({});
  StoragePool* p = Unwrap(o);
  p->state_ = state;
  p->id_ = id;
  return o;
}

StoragePool::StoragePool(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StoragePool>(info) {}

// The call holds the pool's reference (a copy of id_.ref) until it is done.
Napi::Value StoragePool::Call(Napi::Env env, const char* call, std::function<bool()> exec, std::function<Napi::Value(Napi::Env)> done) {
  if (!id_.ref) NAPI_THROW(Napi::TypeError::New(env, "storage pools come from a Connection"), Napi::Value());
  return Submit(env, call, state_, {}, std::move(exec), std::move(done));
}

Napi::Value StoragePool::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), id_.name); }
Napi::Value StoragePool::Uuid(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), id_.uuid); }

Napi::Value StoragePool::Refresh(const Napi::CallbackInfo& info) {
  PoolRef p = id_.ref;
  return Call(info.Env(), "virStoragePoolRefresh", [p] { return virStoragePoolRefresh(p.get(), 0) == 0; });
}

// Stops the pool; a transient one is gone then. A dir pool's files stay.
Napi::Value StoragePool::Destroy(const Napi::CallbackInfo& info) {
  PoolRef p = id_.ref;
  return Call(info.Env(), "virStoragePoolDestroy", [p] { return virStoragePoolDestroy(p.get()) == 0; });
}

Napi::Value StoragePool::GetXmlDesc(const Napi::CallbackInfo& info) {
  PoolRef p = id_.ref;
  unsigned int flags = Flags(info[0]);
  auto out = std::make_shared<std::string>();
  return Call(info.Env(), "virStoragePoolGetXMLDesc", [p, flags, out] { return Take(virStoragePoolGetXMLDesc(p.get(), flags), *out); },
              [out](Napi::Env env) { return Napi::String::New(env, *out); });
}

// createVolume(xml, flags): a new volume in the pool
Napi::Value StoragePool::CreateVolume(const Napi::CallbackInfo& info) {
  PoolRef p = id_.ref;
  std::string xml = info[0].As<Napi::String>();
  unsigned int flags = Flags(info[1]);
  auto out = std::make_shared<VolId>();
  auto state = state_;
  return Call(info.Env(), "virStorageVolCreateXML", [p, xml, flags, out] {
    *out = IdentifyVol(virStorageVolCreateXML(p.get(), xml.c_str(), flags));
    return out->ref != nullptr;
  }, [out, state](Napi::Env env) { return StorageVolume::New(env, state, *out); });
}

// ---- volumes

Napi::FunctionReference StorageVolume::constructor_;

void StorageVolume::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "NativeStorageVolume", {
      InstanceAccessor("name", &StorageVolume::Name, nullptr),
      InstanceAccessor("path", &StorageVolume::Path, nullptr),
      InstanceMethod("getXmlDesc", &StorageVolume::GetXmlDesc),
      InstanceMethod("delete", &StorageVolume::Delete),
      InstanceMethod("transferTo", &StorageVolume::TransferTo),
  });
  constructor_ = Napi::Persistent(ctor);
  constructor_.SuppressDestruct();  // static: outlives the environment
}

Napi::Object StorageVolume::New(Napi::Env env, const std::shared_ptr<ConnState>& state, const VolId& id) {
  Napi::Object o = constructor_.New({});
  StorageVolume* v = Unwrap(o);
  v->state_ = state;
  v->id_ = id;
  return o;
}

StorageVolume::StorageVolume(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StorageVolume>(info) {}

Napi::Value StorageVolume::Call(Napi::Env env, const char* call, std::function<bool()> exec, std::function<Napi::Value(Napi::Env)> done) {
  if (!id_.ref) NAPI_THROW(Napi::TypeError::New(env, "storage volumes come from a Connection or a StoragePool"), Napi::Value());
  return Submit(env, call, state_, {}, std::move(exec), std::move(done));
}

Napi::Value StorageVolume::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), id_.name); }
Napi::Value StorageVolume::Path(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), id_.path); }

Napi::Value StorageVolume::GetXmlDesc(const Napi::CallbackInfo& info) {
  VolRef v = id_.ref;
  auto out = std::make_shared<std::string>();
  return Call(info.Env(), "virStorageVolGetXMLDesc", [v, out] { return Take(virStorageVolGetXMLDesc(v.get(), 0), *out); },
              [out](Napi::Env env) { return Napi::String::New(env, *out); });
}

Napi::Value StorageVolume::Delete(const Napi::CallbackInfo& info) {
  VolRef v = id_.ref;
  unsigned int flags = Flags(info[0]);
  return Call(info.Env(), "virStorageVolDelete", [v, flags] { return virStorageVolDelete(v.get(), flags) == 0; });
}

namespace {

// What the download side hands over goes straight into the upload stream.
struct Pump {
  virStreamPtr out = nullptr;
  double dataBytes = 0;
  double holeBytes = 0;
};

int SendData(virStreamPtr, const char* data, size_t n, void* opaque) {
  auto* p = static_cast<Pump*>(opaque);
  size_t off = 0;
  while (off < n) {
    int sent = virStreamSend(p->out, data + off, n - off);
    if (sent < 0) return -1;
    off += sent;
  }
  p->dataBytes += n;
  return static_cast<int>(n);
}

int SendHole(virStreamPtr, long long length, void* opaque) {
  auto* p = static_cast<Pump*>(opaque);
  if (virStreamSendHole(p->out, length, 0) < 0) return -1;
  p->holeBytes += length;
  return 0;
}

// The two streams of a transfer. A failed one is aborted in a later pool task, after the
// call's error was read (an abort may set an error of its own on the thread).
struct Streams {
  virStreamPtr in = nullptr;
  virStreamPtr out = nullptr;
  bool finished = false;
  ~Streams() {
    if (!finished) {
      if (out) virStreamAbort(out);
      if (in) virStreamAbort(in);
      virResetLastError();
    }
    if (out) virStreamFree(out);
    if (in) virStreamFree(in);
  }
};

}  // namespace

// transferTo(destination, sparse): this volume's bytes into `destination` (a volume of any
// connection, created beforehand), as virsh vol-download | vol-upload would, holes sent as holes
// when sparse. Resolves { dataBytes, holeBytes }.
Napi::Value StorageVolume::TransferTo(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(constructor_.Value())) {
    NAPI_THROW(Napi::TypeError::New(info.Env(), "transferTo needs a NativeStorageVolume"), Napi::Value());
  }
  VolRef src = id_.ref;
  VolRef dst = Unwrap(info[0].As<Napi::Object>())->id_.ref;
  bool sparse = info[1].ToBoolean();
  auto pump = std::make_shared<Pump>();
  return Call(info.Env(), "virStorageVolDownload", [src, dst, sparse, pump] {
    auto s = std::make_shared<Streams>();
    auto fail = [s] {
      RunOnPool([s] { /* the last reference aborts and frees them */ });
      return false;
    };
    s->in = virStreamNew(virStorageVolGetConnect(src.get()), 0);
    s->out = virStreamNew(virStorageVolGetConnect(dst.get()), 0);
    if (!s->in || !s->out) return fail();
    pump->out = s->out;
    unsigned int up = sparse ? VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0;
    unsigned int down = sparse ? VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM : 0;
    if (virStorageVolUpload(dst.get(), s->out, 0, 0, up) < 0) return fail();
    if (virStorageVolDownload(src.get(), s->in, 0, 0, down) < 0) return fail();
    int got = sparse ? virStreamSparseRecvAll(s->in, SendData, SendHole, pump.get())
                     : virStreamRecvAll(s->in, SendData, pump.get());
    if (got < 0 || virStreamFinish(s->in) < 0) return fail();
    // The upload is complete once its side says so.
    if (virStreamFinish(s->out) < 0) return fail();
    s->finished = true;
    return true;
  }, [pump](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("dataBytes", pump->dataBytes);
    o.Set("holeBytes", pump->holeBytes);
    return o;
  });
}

}  // namespace wv
