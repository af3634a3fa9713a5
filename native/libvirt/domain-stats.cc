// A domain's figures: info, interface and block counters, memory statistics, the current job.
#include <vector>
#include "domain.h"

namespace wv {

namespace {
Napi::Number Num(Napi::Env env, long long v) { return Napi::Number::New(env, static_cast<double>(v)); }
}  // namespace

Napi::Value Domain::GetInfo(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  auto out = std::make_shared<virDomainInfo>();
  return Call(info.Env(), "virDomainGetInfo", [d, out] { return virDomainGetInfo(d, out.get()) == 0; }, [out](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("stateCode", out->state);
    o.Set("maxMemKiB", Num(env, out->maxMem));
    o.Set("memoryKiB", Num(env, out->memory));
    o.Set("vcpus", out->nrVirtCpu);
    o.Set("cpuTimeNs", Num(env, out->cpuTime));
    return o;
  });
}

Napi::Value Domain::InterfaceStats(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  auto device = std::make_shared<std::string>(info[0].As<Napi::String>().Utf8Value());
  auto s = std::make_shared<virDomainInterfaceStatsStruct>();
  return Call(info.Env(), "virDomainInterfaceStats", [d, device, s] { return virDomainInterfaceStats(d, device->c_str(), s.get(), sizeof *s) == 0; },
              [s](Napi::Env env) {
                Napi::Object o = Napi::Object::New(env);
                o.Set("rxBytes", Num(env, s->rx_bytes));
                o.Set("rxPackets", Num(env, s->rx_packets));
                o.Set("rxErrs", Num(env, s->rx_errs));
                o.Set("rxDrop", Num(env, s->rx_drop));
                o.Set("txBytes", Num(env, s->tx_bytes));
                o.Set("txPackets", Num(env, s->tx_packets));
                o.Set("txErrs", Num(env, s->tx_errs));
                o.Set("txDrop", Num(env, s->tx_drop));
                return o;
              });
}

Napi::Value Domain::BlockStats(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  auto device = std::make_shared<std::string>(info[0].As<Napi::String>().Utf8Value());
  auto s = std::make_shared<virDomainBlockStatsStruct>();
  return Call(info.Env(), "virDomainBlockStats", [d, device, s] { return virDomainBlockStats(d, device->c_str(), s.get(), sizeof *s) == 0; },
              [s](Napi::Env env) {
                Napi::Object o = Napi::Object::New(env);
                o.Set("rdReq", Num(env, s->rd_req));
                o.Set("rdBytes", Num(env, s->rd_bytes));
                o.Set("wrReq", Num(env, s->wr_req));
                o.Set("wrBytes", Num(env, s->wr_bytes));
                o.Set("errs", Num(env, s->errs));
                return o;
              });
}

// memoryStats(): [[tag, value], ...]; native.ts names the tags
Napi::Value Domain::MemoryStats(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  auto out = std::make_shared<std::vector<virDomainMemoryStatStruct>>(VIR_DOMAIN_MEMORY_STAT_NR);
  return Call(info.Env(), "virDomainMemoryStats", [d, out] {
    int n = virDomainMemoryStats(d, out->data(), out->size(), 0);
    if (n < 0) return false;
    out->resize(n);
    return true;
  }, [out](Napi::Env env) {
    Napi::Array a = Napi::Array::New(env, out->size());
    for (size_t i = 0; i < out->size(); ++i) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, (*out)[i].tag);
      pair.Set(1u, Num(env, (*out)[i].val));
      a.Set(i, pair);
    }
    return a;
  });
}

Napi::Value Domain::GetJobInfo(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  auto j = std::make_shared<virDomainJobInfo>();
  return Call(info.Env(), "virDomainGetJobInfo", [d, j] { return virDomainGetJobInfo(d, j.get()) == 0; }, [j](Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", j->type);
    o.Set("timeElapsedMs", Num(env, j->timeElapsed));
    o.Set("dataTotal", Num(env, j->dataTotal));
    o.Set("dataProcessed", Num(env, j->dataProcessed));
    o.Set("dataRemaining", Num(env, j->dataRemaining));
    o.Set("memTotal", Num(env, j->memTotal));
    o.Set("memProcessed", Num(env, j->memProcessed));
    o.Set("memRemaining", Num(env, j->memRemaining));
    return o;
  });
}

Napi::Value Domain::AbortJob(const Napi::CallbackInfo& info) {
  virDomainPtr d = dom_;
  return Call(info.Env(), "virDomainAbortJob", [d] { return virDomainAbortJob(d) == 0; });
}

}  // namespace wv
