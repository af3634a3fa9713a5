// readAllDomains(): every domain with its state and both definitions, in one trip to the pool
// thread. A resync reads all of them; one call per read from JS cost a promise and two thread
// hand-offs each, and the states come in one RPC (virConnectGetAllDomainStats) instead of one
// per domain. The reads stay fresh: nothing here is kept between calls.
#include <libvirt/virterror.h>
#include <cstring>
#include <vector>
#include "connection.h"
#include "handles.h"
#include "worker.h"

namespace wv {
namespace {

struct SurveyedDomain {
  std::string name;
  std::string uuid;
  int state = 0;
  int reason = 0;
  std::string persistentXml;
  bool active = false;
  std::string liveXml;
};

struct Survey {
  std::vector<SurveyedDomain> domains;
  /** virDomainGetXMLDesc calls made (for the call counters). */
  size_t xmlReads = 0;
  bool statesInOneCall = true;
};

/** A domain undefined between the listing and its read is left out; any other failure fails the survey. */
bool Absent() {
  virErrorPtr err = virGetLastError();
  return err && err->code == VIR_ERR_NO_DOMAIN;
}

using Found = std::vector<std::pair<virDomainPtr, std::pair<int, int>>>;

/** Handles freed on another pool task: virDomainFree resets the calling thread's last error, which is read after a failure. */
void FreeLater(Found found) {
  RunOnPool([found = std::move(found)] {
    for (auto& entry : found) virDomainFree(entry.first);
  });
}

/** Domains with their state: one RPC where the driver has it, else a listing and a call each. */
bool ListWithStates(virConnectPtr c, Found& out, Survey& survey) {
  virDomainStatsRecordPtr* records = nullptr;
  int n = virConnectGetAllDomainStats(c, VIR_DOMAIN_STATS_STATE, &records, 0);
  if (n >= 0) {
    for (int i = 0; i < n; ++i) {
      std::pair<int, int> st{0, 0};
      for (int j = 0; j < records[i]->nparams; ++j) {
        const virTypedParameter& p = records[i]->params[j];
        if (!std::strcmp(p.field, "state.state")) st.first = p.value.i;
        else if (!std::strcmp(p.field, "state.reason")) st.second = p.value.i;
      }
      virDomainRef(records[i]->dom);
      out.push_back({records[i]->dom, st});
    }
    virDomainStatsRecordListFree(records);
    return true;
  }
  virErrorPtr err = virGetLastError();
  if (!err || err->code != VIR_ERR_NO_SUPPORT) return false;
  virResetLastError();
  survey.statesInOneCall = false;
  virDomainPtr* doms = nullptr;
  n = virConnectListAllDomains(c, &doms, 0);
  if (n < 0) return false;
  for (int i = 0; i < n; ++i) out.push_back({doms[i], {0, 0}});
  free(doms);
  for (auto& [d, st] : out) {
    if (virDomainGetState(d, &st.first, &st.second, 0) == 0) continue;
    if (!Absent()) return false;  // the caller frees the handles
    st.first = -1;  // gone meanwhile: left out below
  }
  return true;
}

bool Read(virConnectPtr c, Survey& survey) {
  Found found;
  if (!ListWithStates(c, found, survey)) {
    FreeLater(std::move(found));
    return false;
  }
  bool ok = true;
  for (auto& [d, st] : found) {
    if (!ok) break;
    if (st.first < 0) continue;
    SurveyedDomain s;
    DomainId id = IdentifyDomain(d);
    s.name = std::move(id.name);
    s.uuid = std::move(id.uuid);
    s.state = st.first;
    s.reason = st.second;
    ++survey.xmlReads;
    if (!Take(virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE), s.persistentXml)) {
      if (Absent()) virResetLastError();
      else ok = false;
      continue;
    }
    s.active = s.state != VIR_DOMAIN_SHUTOFF;
    if (s.active) {
      ++survey.xmlReads;
      if (!Take(virDomainGetXMLDesc(d, 0), s.liveXml)) {
        if (Absent()) virResetLastError();
        else ok = false;
        continue;
      }
    }
    survey.domains.push_back(std::move(s));
  }
  FreeLater(std::move(found));
  return ok;
}

}  // namespace

// readAllDomains(): { domains: [{ name, uuid, stateCode, reasonCode, persistentXml, liveXml? }], xmlReads, statesInOneCall }
Napi::Value Connection::ReadAllDomains(const Napi::CallbackInfo& info) {
  auto survey = std::make_shared<Survey>();
  virConnectPtr c = state_->conn;
  return Call(info.Env(), "virConnectGetAllDomainStats", [c, survey] { return Read(c, *survey); }, [survey](Napi::Env env) {
    Napi::Array a = Napi::Array::New(env, survey->domains.size());
    for (size_t i = 0; i < survey->domains.size(); ++i) {
      SurveyedDomain& s = survey->domains[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", s.name);
      o.Set("uuid", s.uuid);
      o.Set("stateCode", s.state);
      o.Set("reasonCode", s.reason);
      o.Set("persistentXml", s.persistentXml);
      if (s.active) o.Set("liveXml", s.liveXml);
      a.Set(i, o);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("domains", a);
    out.Set("xmlReads", static_cast<double>(survey->xmlReads));
    out.Set("statesInOneCall", survey->statesInOneCall);
    survey->domains.clear();
    return out;
  });
}

}  // namespace wv
