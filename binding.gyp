{
  # Native backend of ebm-ts. scripts/build-native.mjs sets EBM_BLAS=1 (plus EBM_BLAS_INCLUDE / EBM_BLAS_LIBDIR)
  # when OpenBLAS was found; otherwise the bundled GEMM kernel is used.
  "variables": {
    "ebm_blas%": "<!(node -p \"process.env.EBM_BLAS || '0'\")",
    "ebm_blas_include%": "<!(node -p \"process.env.EBM_BLAS_INCLUDE || '/usr/include'\")",
    "ebm_blas_libdir%": "<!(node -p \"process.env.EBM_BLAS_LIBDIR || '/usr/lib'\")",
    # -march: scripts/build-native.mjs passes EBM_MARCH (default: a portable baseline, see there); `native` only when
    # asked (EBM_MARCH=native), since such an addon may crash with SIGILL on another CPU.
    "ebm_march%": "<!(node -p \"process.env.EBM_MARCH || (process.arch === 'x64' ? 'x86-64-v2' : process.arch === 'arm64' ? 'armv8-a' : 'native')\")"
  },
  "targets": [
    {
      # Random kernels (native/philox.c) must reproduce the JS float64 arithmetic bit for bit: compiled on their own
      # with floating-point contraction (FMA fusion) off and without -ffast-math, then linked into the addon.
      "target_name": "ebm_random",
      "type": "static_library",
      "sources": ["native/philox.c"],
      "cflags!": ["-O2", "-O0", "-fno-tree-vectorize", "-ffast-math", "-ffp-contract=fast"],
      "cflags": ["-std=gnu11", "-O3", "-march=<(ebm_march)", "-ffp-contract=off", "-fno-math-errno", "-fPIC",
                 "-fvisibility=hidden", "-Wall"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=gnu11", "-O3", "-ffp-contract=off", "-fno-math-errno"]
      }
    },
    {
      "target_name": "ebm_native",
      "dependencies": ["ebm_random"],
      "sources": ["native/ebm_native.c", "native/gemm.c", "native/elementwise.c", "native/conv.c"],
      "cflags!": ["-O2", "-O0", "-fno-tree-vectorize"],
      "cflags": ["-std=gnu11", "-O3", "-march=<(ebm_march)", "-ffp-contract=fast", "-fno-math-errno",
                 "-fno-trapping-math", "-fvisibility=hidden", "-Wall", "-Wno-unused-function"],
      "ldflags": ["-pthread"],
      "libraries": ["-lm", "-lpthread"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=gnu11", "-O3", "-ffp-contract=fast", "-fno-math-errno", "-fno-trapping-math"]
      },
      "conditions": [
        ["ebm_blas==1", {
          "defines": ["EBM_HAVE_OPENBLAS=1"],
          "include_dirs": ["<(ebm_blas_include)"],
          "libraries": ["-L<(ebm_blas_libdir)", "-Wl,-rpath,<(ebm_blas_libdir)", "-lopenblas"]
        }]
      ]
    }
  ]
}
