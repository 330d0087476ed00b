# Two commands for a fresh Debian machine:
#   make demo   installs what is missing, then renders/reconstructs a multilingual sample
#   make test   installs what is missing, then runs the test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
# The CPU build of torch for machines without a GPU (a plain `pip install torch` fetches a multi-GB CUDA
# build). Override, e.g. TORCH_CPU_SPEC="torch==2.5.1" PIP_EXTRA_INDEX_URL=<your CPU wheel index>.
TORCH_CPU_SPEC ?= torch==2.13.0
DEB_PACKAGES := libpango-1.0-0 libpangocairo-1.0-0 libpangoft2-1.0-0 libcairo2 libfontconfig1 fontconfig \
	fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core fonts-dejavu-extra
DEMO_DIR ?= demo-output

.PHONY: demo test install system-deps lint bench clean

demo: install
	$(VENV)/bin/pixel demo --output-dir $(DEMO_DIR)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check src tests benchmarks scripts

install: system-deps $(STAMP)

system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	$(PYTHON) -m venv --help >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "Missing Debian packages. Run:"; echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
	  echo "GPU found: torch comes from the package requirements"; \
	elif ! $(PY) -c "import torch" >/dev/null 2>&1; then \
	  echo "No GPU: installing the CPU build ($(TORCH_CPU_SPEC))"; $(PIP) install -q "$(TORCH_CPU_SPEC)"; \
	fi
	$(PIP) install -q -e ".[dev]"
	touch $(STAMP)

bench: install
	$(PY) benchmarks/render.py
	$(PY) benchmarks/model.py --steps 2
	$(PY) benchmarks/pretrain.py
	$(PY) benchmarks/finetune.py
	$(PY) benchmarks/explain.py
	$(PY) benchmarks/embed.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
