// What a connection's handles share: the virConnectPtr, whether close() was called (after
// which no call reaches libvirt), and where its events go.
#pragma once
#include <libvirt/libvirt.h>
#include <node_api.h>
#include <atomic>
#include <mutex>
#include <string>

namespace wv {

struct ConnState {
  virConnectPtr conn = nullptr;     // the Connection's own reference, dropped by close()
  std::string uri;
  std::atomic<bool> closed{false};
  napi_ref sink = nullptr;          // main thread: the JS function that receives events
  std::mutex eventsMutex;           // pool threads: enable, disable and close may overlap
  int eventIds[4] = {-1, -1, -1, -1};
  bool eventsHeld = false;          // main thread: this connection's subscription holds the loop
};

}  // namespace wv
