# The communication addons, built apart from the core (npm run build:dist; output in
# native/dist/build/Release):
#   kiln_dist.node  process groups, the rendezvous store, MPI and NCCL by dlopen: links nothing
#                   beyond glibc and libstdc++, so it loads everywhere.
#   kiln_gloo.node  the Gloo engine, linked to libgloo.so.0: built only where libgloo-dev is
#                   installed (its headers in /usr/include/gloo, or GLOO_INCLUDE / GLOO_LIB).
{
  "variables": {
    "gloo_include%": "<!(node -p \"process.env.GLOO_INCLUDE || '/usr/include'\")",
    "gloo_lib%": "<!(node -p \"process.env.GLOO_LIB || '/usr/lib'\")",
    "has_gloo%": "<!(node -p \"require('fs').existsSync((process.env.GLOO_INCLUDE || '/usr/include') + '/gloo/config.h') ? 1 : 0\")"
  },
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=c++20", "-O3", "-fPIC"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
  },
  "targets": [
    {
      "target_name": "kiln_dist",
      "sources": ["addon.cc", "group.cc", "store.cc", "util.cc", "mpi_engine.cc", "nccl_engine.cc"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ],
  "conditions": [
    ["has_gloo==1", {
      "targets": [
        {
          "target_name": "kiln_gloo",
          "sources": ["gloo_addon.cc", "gloo_engine.cc"],
          "include_dirs": ["<(gloo_include)"],
          "libraries": ["-L<(gloo_lib)", "-lgloo", "-lpthread"]
        }
      ]
    }]
  ]
}
