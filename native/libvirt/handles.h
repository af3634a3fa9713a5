// Small helpers shared by the handle classes: the identity of a domain or network read on the
// pool thread (virDomainGetName and virDomainGetUUIDString answer from the handle, no RPC), and
// strings libvirt allocated.
#pragma once
#include <libvirt/libvirt.h>
#include <napi.h>
#include <cstdlib>
#include <string>

namespace wv {

struct DomainId {
  virDomainPtr ptr = nullptr;
  std::string name;
  std::string uuid;
};

struct NetworkId {
  virNetworkPtr ptr = nullptr;
  std::string name;
  std::string uuid;
};

inline DomainId IdentifyDomain(virDomainPtr d) {
  char uuid[VIR_UUID_STRING_BUFLEN] = "";
  virDomainGetUUIDString(d, uuid);
  const char* name = virDomainGetName(d);
  return {d, name ? name : "", uuid};
}

inline NetworkId IdentifyNetwork(virNetworkPtr n) {
  char uuid[VIR_UUID_STRING_BUFLEN] = "";
  virNetworkGetUUIDString(n, uuid);
  const char* name = virNetworkGetName(n);
  return {n, name ? name : "", uuid};
}

/** Copies a string libvirt allocated and frees it; false when libvirt returned NULL (failed). */
inline bool Take(char* s, std::string& out) {
  if (!s) return false;
  out = s;
  free(s);
  return true;
}

/** Impact and other flag words arrive from native.ts as numbers. */
inline unsigned int Flags(const Napi::Value& v) { return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : 0; }

}  // namespace wv
