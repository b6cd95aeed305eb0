# The core addon (CPU backend + binding). The kernels in native/cpu/kernels are compiled three
# times, once per instruction set, into static libraries; cpu_backend.cc picks one at run time.
{
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc": ["-std=c++20", "-O3", "-fPIC", "-fno-math-errno"],
    "cflags": ["-O3", "-fPIC"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
  },
  "targets": [
    {
      "target_name": "kiln_kernels_portable",
      "type": "static_library",
      "sources": ["<!@(ls -1 native/cpu/kernels/*.cc)"],
      "defines": ["KILN_ISA_NS=portable"]
    },
    {
      "target_name": "kiln_kernels_avx2",
      "type": "static_library",
      "sources": ["<!@(ls -1 native/cpu/kernels/*.cc)"],
      "defines": ["KILN_ISA_NS=avx2"],
      "cflags_cc": ["-mavx2", "-mfma", "-mf16c"]
    },
    {
      "target_name": "kiln_kernels_avx512",
      "type": "static_library",
      "sources": ["<!@(ls -1 native/cpu/kernels/*.cc)"],
      "defines": ["KILN_ISA_NS=avx512"],
      "cflags_cc": ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mprefer-vector-width=512"]
    },
    {
      "target_name": "kiln",
      "dependencies": ["kiln_kernels_portable", "kiln_kernels_avx2", "kiln_kernels_avx512"],
      "sources": [
        "<!@(ls -1 native/cpu/*.cc)",
        "<!@(ls -1 native/binding/*.cc)",
        "<!@(ls -1 native/composite/*.cc)"
      ],
      "libraries": ["-lpthread"]
    }
  ]
}
