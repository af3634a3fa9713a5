#include "worker.h"
#include <libvirt/virterror.h>
#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include "errors.h"

namespace wv {
namespace {

// ---- the pool: threads start on demand, up to a bound: WIMAXVM_LIBVIRT_THREADS, else two per
// CPU (at least 4, at most 16). The in-process test driver and libvirtd's drivers serialize on
// their locks, so threads past that only contend: on 2 cores 16 threads made 1000 define+start
// about 20 % slower than 4. Calls that wait long on a socket (migration) may want more.
// Never destroyed: at exit its threads still wait on the condition variable, and destroying
// one with waiters blocks (glibc), which would hang the process's exit.
struct Pool {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  int threads = 0;
  int idle = 0;
};
Pool& pool = *new Pool;

int MaxThreads() {
  static const int max = [] {
    const char* v = std::getenv("WIMAXVM_LIBVIRT_THREADS");
    int n = v ? std::atoi(v) : 0;
    if (n > 0) return n;
    int cpus = static_cast<int>(std::thread::hardware_concurrency());
    return std::min(16, std::max(4, 2 * cpus));
  }();
  return max;
}

void PoolThread() {
  std::unique_lock<std::mutex> lock(pool.mutex);
  for (;;) {
    ++pool.idle;
    pool.cv.wait(lock, [] { return !pool.queue.empty(); });
    --pool.idle;
    std::function<void()> task = std::move(pool.queue.front());
    pool.queue.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

// ---- back to the main thread
std::mutex& mainMutex = *new std::mutex;  // used by pool threads until the very end: never destroyed
bool torndown = false;
napi_threadsafe_function toMain = nullptr;
napi_env mainEnv = nullptr;
int loopHolds = 0;
Napi::FunctionReference& observer = *new Napi::FunctionReference;  // main thread; not destroyed after the environment

using MainFn = std::function<void(Napi::Env)>;

void CallJs(napi_env env, napi_value, void*, void* data) {
  auto* fn = static_cast<MainFn*>(data);
  if (env) {
    Napi::HandleScope scope(env);
    try {
      (*fn)(Napi::Env(env));
    } catch (const Napi::Error& e) {
      // A listener threw: report it as Node reports an uncaught exception.
      napi_fatal_exception(env, e.Value());
    }
  }
  delete fn;
}

void Teardown(void*) {
  std::lock_guard<std::mutex> lock(mainMutex);
  torndown = true;
  napi_release_threadsafe_function(toMain, napi_tsfn_abort);
}

struct Job {
  const char* call;
  Hold hold;
  Exec exec;
  Done done;
  Napi::Promise::Deferred deferred;
  bool ok = false;
  ErrorInfo err;
};

void Finish(Napi::Env env, Job* job) {
  HoldLoop(-1);
  if (!job->ok) {
    job->deferred.Reject(MakeError(env, job->err));
    return;
  }
  try {
    job->deferred.Resolve(job->done ? job->done(env) : env.Undefined());
  } catch (const Napi::Error& e) {
    job->deferred.Reject(e.Value());
  }
}

}  // namespace

void Hold::Acquire() {
  if (conn) virConnectRef(conn);
  if (dom) virDomainRef(dom);
  if (net) virNetworkRef(net);
  if (stream) virStreamRef(stream);
}

void Hold::Release() {
  if (stream) virStreamFree(stream);
  if (net) virNetworkFree(net);
  if (dom) virDomainFree(dom);
  if (conn) virConnectClose(conn);
}

void RunOnPool(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(pool.mutex);
  pool.queue.push_back(std::move(fn));
  if (pool.idle == 0 && pool.threads < MaxThreads()) {
    ++pool.threads;
    std::thread(PoolThread).detach();
  } else {
    pool.cv.notify_one();
  }
}

void PostToMain(std::function<void(Napi::Env)> fn) {
  auto* data = new MainFn(std::move(fn));
  std::lock_guard<std::mutex> lock(mainMutex);
  if (torndown || napi_call_threadsafe_function(toMain, data, napi_tsfn_nonblocking) != napi_ok) delete data;
}

void HoldLoop(int delta) {
  int before = loopHolds;
  loopHolds += delta;
  if (before == 0 && loopHolds > 0) napi_ref_threadsafe_function(mainEnv, toMain);
  if (before > 0 && loopHolds == 0) napi_unref_threadsafe_function(mainEnv, toMain);
}

Napi::Value Submit(Napi::Env env, const char* call, const std::shared_ptr<ConnState>& state, Hold hold, Exec exec, Done done) {
  auto deferred = Napi::Promise::Deferred::New(env);
  if (state && state->closed) {
    deferred.Reject(MakeError(env, SyntheticError(VIR_ERR_INVALID_CONN, "closed", "the libvirt connection " + state->uri + " is closed")));
    return deferred.Promise();
  }
  if (!observer.IsEmpty()) {
    try {
      observer.Call({Napi::String::New(env, call)});
    } catch (const Napi::Error&) {
      // A failing counter must not fail the call.
    }
  }
  hold.Acquire();
  auto* job = new Job{call, hold, std::move(exec), std::move(done), deferred, false, {}};
  HoldLoop(1);
  RunOnPool([job] {
    job->ok = job->exec();
    if (!job->ok) job->err = CaptureLastError(job->call);
    job->hold.Release();
    PostToMain([job](Napi::Env env) {
      Finish(env, job);
      delete job;
    });
  });
  return deferred.Promise();
}

void InitWorker(Napi::Env env, Napi::Object exports) {
  if (mainEnv) NAPI_THROW_VOID(Napi::Error::New(env, "wimaxvm_libvirt loads in one thread of a process only"));
  mainEnv = env;
  napi_value name;
  napi_create_string_utf8(env, "wimaxvm-libvirt", NAPI_AUTO_LENGTH, &name);
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr, CallJs, &toMain));
  napi_unref_threadsafe_function(env, toMain);
  napi_add_env_cleanup_hook(env, Teardown, nullptr);
  exports.Set("setCallObserver", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    if (info[0].IsFunction()) observer = Napi::Persistent(info[0].As<Napi::Function>());
    else observer.Reset();
  }));
}

}  // namespace wv
