// wimaxvm's libvirt binding: module set-up. libvirt's event loop starts here, once, before
// any connection is opened (keepalive, close callbacks, events and streams need it).
#include <napi.h>
#include "connection.h"
#include "domain.h"
#include "enums.h"
#include "errors.h"
#include "events.h"
#include "network.h"
#include "storage.h"
#include "stream.h"
#include "worker.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  wv::StartEventLoop();
  wv::InitWorker(env, exports);
  wv::InitErrors(env, exports);
  wv::Connection::Init(env, exports);
  wv::Domain::Init(env, exports);
  wv::Network::Init(env, exports);
  wv::StoragePool::Init(env, exports);
  wv::StorageVolume::Init(env, exports);
  wv::Stream::Init(env, exports);
  exports.Set("enums", wv::EnumsObject(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(wimaxvm_libvirt, Init)
