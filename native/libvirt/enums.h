// libvirt's enums by name (generated enums.inc), for error code names and for the tables
// native.ts turns into state, reason and event-detail names.
#pragma once
#include <napi.h>

namespace wv {

/** 'VIR_ERR_NO_DOMAIN' for 42; 'VIR_ERR_<n>' for a code newer than the headers built against. */
const char* ErrorCodeName(int code, std::string& fallback);
const char* ErrorDomainName(int domain, std::string& fallback);
/** { enumName: { MEMBER: value } } for every enum of enums.inc. */
Napi::Object EnumsObject(Napi::Env env);

}  // namespace wv
