"""The local teacher's llama.cpp is a portable build: no AVX-512 and no AMX code, so it cannot take
the AMX path that segfaults on Xeons with AMX (ggml-org/llama.cpp#20824), nor an instruction a
user's CPU lacks. A `-march=native` build on an AVX-512 machine fails both checks."""

import importlib.util
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                reason="llama-cpp-python is not installed (scripts/install_local_teacher.sh)")
X86 = platform.machine().lower() in ("x86_64", "amd64")


def _libs() -> list[Path]:
    spec = importlib.util.find_spec("llama_cpp")
    libs = sorted((Path(spec.origin).parent / "lib").glob("libggml*.so"))
    assert libs, "no ggml libraries next to llama_cpp"
    return libs


def test_compiled_features_have_no_avx512_or_amx():
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    on = set(re.findall(r"(\w+) = 1", info))
    assert not {f for f in on if f.startswith(("AVX512", "AMX"))}, info
    if X86:
        assert {"AVX2", "FMA", "F16C"} <= on, info  # the x86-64-v3 baseline is kept: fast enough


@pytest.mark.skipif(not X86 or shutil.which("objdump") is None, reason="x86-64 with objdump only")
def test_no_avx512_or_amx_instructions_in_the_binaries():
    for lib in _libs():
        asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(lib)], capture_output=True,
                             text=True, check=True).stdout
        assert "%zmm" not in asm, f"{lib.name}: AVX-512 (zmm) instructions"
        amx = re.findall(r"\t(tdpb\w+|tileloadd\w*|ldtilecfg|tilestored)\b", asm)
        assert not amx, f"{lib.name}: AMX instructions {sorted(set(amx))[:5]}"


def test_requirements_never_ask_pip_for_llama_cpp_python():
    """pip's wheel cache ignores CMAKE_ARGS, so asking pip for the package could reuse a native
    wheel built earlier; the Makefile installs it only from the flag-keyed wheelhouse."""
    req = (ROOT / "requirements.txt").read_text()
    assert not re.search(r"^llama[-_]cpp[-_]python", req, re.M | re.I)
    make = (ROOT / "Makefile").read_text()
    assert "scripts/install_local_teacher.sh build" in make and "scripts/install_local_teacher.sh install" in make
    script = (ROOT / "scripts/install_local_teacher.sh").read_text()
    assert "--no-cache-dir" in script and "--no-index" in script and "-DGGML_NATIVE=OFF" in script
    key = subprocess.run(["bash", str(ROOT / "scripts/install_local_teacher.sh"), "key"], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert re.search(r"llama-cpp-python-0\.3\.36-[\w]+-cp\d+-[0-9a-f]{16}$", key), key
