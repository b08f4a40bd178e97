#!/usr/bin/env bash
# Build (once) and install llama-cpp-python for the local teacher, portably.
#
#   scripts/install_local_teacher.sh build   PYTHON   # build the wheel into the keyed wheelhouse
#   scripts/install_local_teacher.sh install PYTHON   # install it (no index, no pip cache)
#   scripts/install_local_teacher.sh key              # print the wheelhouse folder
#
# Why: llama-cpp-python is source-only on PyPI, and its default build is -march=native. A native
# build on an Intel Xeon with AMX takes ggml's AMX path, which segfaults in
# ggml_backend_amx_mul_mat (ggml-org/llama.cpp#20824), and a wheel built natively on one CPU can
# crash on another (AVX-512 on a CPU without it). We build with GGML_NATIVE=OFF: on x86-64 the
# AVX2/FMA/F16C baseline (x86-64-v3, any x86 CPU since 2013-2015), no AVX-512, no AMX; on ARM64
# ggml's generic armv8 build. pip's own wheel cache is keyed by the sdist URL only, not by
# CMAKE_ARGS, so it could hand back a native wheel built earlier with other flags: we never let
# pip build or find this package itself. The wheel is built with --no-cache-dir into a folder
# whose name hashes the version, the flags, the architecture and the Python tag, and installed
# from that folder only (--no-index). Another flag set can never reuse it.
#
# CURATE_WHEELHOUSE overrides the parent folder (default: ${XDG_CACHE_HOME:-~/.cache}/curate/wheels).
set -euo pipefail

VERSION=0.3.36
ARCH=$(uname -m)
COMMON="-DGGML_NATIVE=OFF -DGGML_OPENMP=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
case "$ARCH" in
  x86_64|amd64)
    FLAGS="$COMMON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ;;
  *)
    FLAGS="$COMMON" ;;
esac

cmd=${1:-}
PYTHON=${2:-python3}
if [ "$cmd" != key ]; then
  PYTAG=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
else
  PYTAG=${PYTAG:-$(python3 -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')}
fi
# llama.cpp's `common` library is forced on by llama-cpp-python but unused by the bindings: a
# project include turns it off (see the file). Its content, not its path, goes into the key.
NO_COMMON="$(cd "$(dirname "$0")" && pwd)/llama_no_common.cmake"
NO_COMMON_SHA=$(sha256sum "$NO_COMMON" | cut -c1-16)
KEY=$(printf '%s\n' "llama-cpp-python==$VERSION" "$ARCH" "$PYTAG" "$FLAGS" "no-common:$NO_COMMON_SHA" | sha256sum | cut -c1-16)
FLAGS="$FLAGS -DCMAKE_PROJECT_llama.cpp_INCLUDE=$NO_COMMON"
HOUSE="${CURATE_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/curate/wheels}/llama-cpp-python-$VERSION-$ARCH-$PYTAG-$KEY"

case "$cmd" in
  key)
    echo "$HOUSE" ;;
  build)
    if ls "$HOUSE"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
      echo "local teacher: reusing the portable llama-cpp-python $VERSION wheel in $HOUSE"
      exit 0
    fi
    mkdir -p "$HOUSE"
    tmp=$(mktemp -d "$HOUSE.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    echo "local teacher: building llama-cpp-python $VERSION portably (GGML_NATIVE=OFF, no AVX-512/AMX; about 3 min on 2 cores); log: $HOUSE.log"
    t0=$(date +%s)
    if ! CMAKE_ARGS="$FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$PYTHON" -m pip wheel --no-cache-dir --no-deps --no-binary llama-cpp-python \
        --disable-pip-version-check -w "$tmp" "llama-cpp-python==$VERSION" >"$HOUSE.log" 2>&1; then
      echo "local teacher: building llama-cpp-python failed; last lines of $HOUSE.log:" >&2
      tail -20 "$HOUSE.log" >&2
      exit 1
    fi
    mv "$tmp"/llama_cpp_python-*.whl "$HOUSE"/
    printf 'llama-cpp-python==%s\narch=%s\npython=%s\nCMAKE_ARGS=%s\nbuilt=%s\nseconds=%s\n' \
      "$VERSION" "$ARCH" "$PYTAG" "$FLAGS" "$(date -u +%FT%TZ)" "$(( $(date +%s) - t0 ))" > "$HOUSE/BUILD-INFO"
    echo "local teacher: built in $(( $(date +%s) - t0 )) s -> $HOUSE" ;;
  install)
    "$PYTHON" -m pip install -q --disable-pip-version-check --no-cache-dir --no-index --no-deps \
      --force-reinstall --find-links "$HOUSE" "llama-cpp-python==$VERSION" ;;
  *)
    echo "usage: $0 build|install PYTHON | key" >&2
    exit 2 ;;
esac
