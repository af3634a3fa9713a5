// Linux inotify for the directory source (src/sources/inotify.ts). Node's fs.watch asks the
// kernel for neither IN_CLOSE_WRITE nor IN_MOVED_TO as such, and those are what say a file is
// complete (written and closed, or renamed into place): with them a finished file is read at
// once instead of after a settle window. One inotify descriptor per object, read on Node's own
// loop when readable (uv_poll: no thread); each read's events reach the callback as one array.
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/inotify.h>
#include <unistd.h>

namespace {

Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  const char* code = err == ENOENT ? "ENOENT" : err == EACCES ? "EACCES" : err == ENOTDIR ? "ENOTDIR" : err == ENOSPC ? "ENOSPC" : err == EMFILE ? "EMFILE" : "EINOTIFY";
  e.Set("code", Napi::String::New(env, code));
  return e;
}

class Inotify : public Napi::ObjectWrap<Inotify> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    exports.Set("Inotify", DefineClass(env, "Inotify", {
      InstanceMethod("add", &Inotify::Add),
      InstanceMethod("remove", &Inotify::Remove),
      InstanceMethod("close", &Inotify::Close),
    }));
    Napi::Object masks = Napi::Object::New(env);
    const std::pair<const char*, uint32_t> names[] = {
      {"IN_MODIFY", IN_MODIFY}, {"IN_ATTRIB", IN_ATTRIB}, {"IN_CLOSE_WRITE", IN_CLOSE_WRITE},
      {"IN_MOVED_FROM", IN_MOVED_FROM}, {"IN_MOVED_TO", IN_MOVED_TO}, {"IN_CREATE", IN_CREATE},
      {"IN_DELETE", IN_DELETE}, {"IN_DELETE_SELF", IN_DELETE_SELF}, {"IN_MOVE_SELF", IN_MOVE_SELF},
      {"IN_UNMOUNT", IN_UNMOUNT}, {"IN_Q_OVERFLOW", IN_Q_OVERFLOW}, {"IN_IGNORED", IN_IGNORED},
      {"IN_ISDIR", IN_ISDIR}, {"IN_ONLYDIR", IN_ONLYDIR},
    };
    for (const auto& [name, value] : names) masks.Set(name, Napi::Number::New(env, value));
    exports.Set("masks", masks);
  }

  /** new Inotify(callback(events: {wd, mask, cookie, name}[])) */
  explicit Inotify(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<Inotify>(info), context_(info.Env(), "wimaxvm:inotify") {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "new Inotify(callback)");
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) throw ErrnoError(env, "inotify_init1", errno);
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE, OnReadable);
    if (rc != 0) {
      Shutdown();
      throw Napi::Error::New(env, std::string("uv_poll: ") + uv_strerror(rc));
    }
  }

  ~Inotify() override { Shutdown(); }

 private:
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw Napi::Error::New(env, "inotify is closed");
    std::string path = info[0].As<Napi::String>();
    uint32_t mask = info[1].As<Napi::Number>().Uint32Value();
    int wd = inotify_add_watch(fd_, path.c_str(), mask);
    if (wd < 0) throw ErrnoError(env, "inotify_add_watch " + path, errno);
    return Napi::Number::New(env, wd);
  }

  Napi::Value Remove(const Napi::CallbackInfo& info) {
    if (fd_ >= 0) inotify_rm_watch(fd_, info[0].As<Napi::Number>().Int32Value());  // EINVAL: already gone
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  /** Stops polling and closes the descriptor; the poll handle is freed by libuv's close callback. */
  void Shutdown() {
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    static_cast<Inotify*>(handle->data)->Drain();
  }

  /** Reads every queued event and hands them on in one call. */
  void Drain() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Array events = Napi::Array::New(env);
    uint32_t n = 0;
    alignas(struct inotify_event) char buf[64 * 1024];
    while (fd_ >= 0) {
      ssize_t len = read(fd_, buf, sizeof buf);
      if (len <= 0) break;  // EAGAIN: all read
      for (char* p = buf; p < buf + len;) {
        const auto* ev = reinterpret_cast<const struct inotify_event*>(p);
        Napi::Object e = Napi::Object::New(env);
        e.Set("wd", Napi::Number::New(env, ev->wd));
        e.Set("mask", Napi::Number::New(env, ev->mask));
        e.Set("cookie", Napi::Number::New(env, ev->cookie));
        e.Set("name", Napi::String::New(env, ev->len ? ev->name : ""));
        events.Set(n++, e);
        p += sizeof(struct inotify_event) + ev->len;
      }
    }
    if (n == 0) return;
    try {
      callback_.MakeCallback(Value(), {events}, context_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());  // the callback threw: an uncaught exception, as for fs.watch
    }
  }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::AsyncContext context_;
};

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  Inotify::Init(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(wimaxvm_inotify, InitModule)
