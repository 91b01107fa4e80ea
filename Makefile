# The two quickstart commands: `make run` (service on 127.0.0.1:8000) and `make test`.
VENV ?= .venv
BIND ?= 127.0.0.1:8000
WORKERS ?= 2
PYTHON ?= python3
SANDBOX_MODE ?= strict
# TORCH=1: install PyTorch (requirements-torch.txt, ~870 MB) and let the zygote preload it, so code
# submissions may use torch; without it they are told this deployment does not offer torch.
TORCH ?= 0
ZYGOTE_TORCH = $(if $(filter 1,$(TORCH)),,--without-torch)

.PHONY: run test bench install clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.torch: requirements-torch.txt $(VENV)/.runtime
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements-torch.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements-torch.txt $(VENV)/.runtime
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime $(if $(filter 1,$(TORCH)),$(VENV)/.torch)

run: install
	$(VENV)/bin/flask --app wsgi init-db
	# the sandbox zygote starts first, apart from the app, with an empty environment
	env -i $(CURDIR)/$(VENV)/bin/python -I grader/sandbox/zygote.py --socket instance/sandbox.sock \
	    --mode $(SANDBOX_MODE) $(ZYGOTE_TORCH) & zygote=$$!; trap 'kill $$zygote' EXIT INT TERM; \
	GRADER_BIND=$(BIND) WEB_WORKERS=$(WORKERS) $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

test: $(VENV)/.dev
	$(VENV)/bin/python -m pytest

bench: $(VENV)/.dev
	$(VENV)/bin/python bench/numeric.py

clean:
	rm -rf $(VENV)
