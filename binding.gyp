{
  "targets": [
    {
      "target_name": "wimaxvm_libvirt",
      "sources": [
        "native/libvirt/addon.cc",
        "native/libvirt/worker.cc",
        "native/libvirt/errors.cc",
        "native/libvirt/enums.cc",
        "native/libvirt/events.cc",
        "native/libvirt/connection.cc",
        "native/libvirt/domain.cc",
        "native/libvirt/domain-config.cc",
        "native/libvirt/domain-stats.cc",
        "native/libvirt/domain-survey.cc",
        "native/libvirt/domain-migrate.cc",
        "native/libvirt/network.cc",
        "native/libvirt/stream.cc",
        "native/libvirt/storage.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")",
        "<!@(pkg-config --cflags-only-I libvirt | sed 's/-I//g')"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').gyp\")"],
      "libraries": ["<!@(pkg-config --libs libvirt)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    },
    {
      "target_name": "wimaxvm_inotify",
      "sources": ["native/inotify/inotify.cc"],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').gyp\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
