// Storage pools and volumes (virStoragePoolPtr, virStorageVolPtr): what moving a VM's overlay
// to a host without shared storage needs. A volume's content goes between two connections
// through two streams (virStorageVolDownload into virStorageVolUpload), holes kept.
#pragma once
#include <libvirt/libvirt.h>
#include <napi.h>
#include <memory>
#include <string>
#include <type_traits>
#include "conn-state.h"

namespace wv {

/** A libvirt reference that is dropped on the pool thread (the last one may close a remote connection). */
using PoolRef = std::shared_ptr<std::remove_pointer_t<virStoragePoolPtr>>;
using VolRef = std::shared_ptr<std::remove_pointer_t<virStorageVolPtr>>;

struct PoolId {
  PoolRef ref;
  std::string name;
  std::string uuid;
};

struct VolId {
  VolRef ref;
  std::string name;
  std::string path;
};

/** Pool thread: takes ownership of p (null stays null). */
PoolId IdentifyPool(virStoragePoolPtr p);
VolId IdentifyVol(virStorageVolPtr v);

class StoragePool : public Napi::ObjectWrap<StoragePool> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object New(Napi::Env env, const std::shared_ptr<ConnState>& state, const PoolId& id);
  explicit StoragePool(const Napi::CallbackInfo& info);

 private:
  Napi::Value Call(Napi::Env env, const char* call, std::function<bool()> exec, std::function<Napi::Value(Napi::Env)> done = nullptr);
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Uuid(const Napi::CallbackInfo& info);
  Napi::Value Refresh(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value GetXmlDesc(const Napi::CallbackInfo& info);
  Napi::Value CreateVolume(const Napi::CallbackInfo& info);

  std::shared_ptr<ConnState> state_;
  PoolId id_;
  static Napi::FunctionReference constructor_;
};

class StorageVolume : public Napi::ObjectWrap<StorageVolume> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object New(Napi::Env env, const std::shared_ptr<ConnState>& state, const VolId& id);
  explicit StorageVolume(const Napi::CallbackInfo& info);

 private:
  Napi::Value Call(Napi::Env env, const char* call, std::function<bool()> exec, std::function<Napi::Value(Napi::Env)> done = nullptr);
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Path(const Napi::CallbackInfo& info);
  Napi::Value GetXmlDesc(const Napi::CallbackInfo& info);
  Napi::Value Delete(const Napi::CallbackInfo& info);
  Napi::Value TransferTo(const Napi::CallbackInfo& info);

  std::shared_ptr<ConnState> state_;
  VolId id_;
  static Napi::FunctionReference constructor_;
};

}  // namespace wv
