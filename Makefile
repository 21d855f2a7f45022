# Two entry points (see README): `make transcribe VIDEO=path` and `make test`.
# Both create the virtual environment if it is missing and install the project into it with the
# tested versions of constraints.txt (pyproject.toml states the ranges the code works with);
# the install is redone only when pyproject.toml or constraints.txt changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lipread-installed

.PHONY: install test lint transcribe clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

# text and subtitles (txt, srt, vtt, json) of $(VIDEO) with the bundled model, into $(OUT)/
OUT ?= transcripts
transcribe: $(STAMP)
	@test -n "$(VIDEO)" || { echo 'usage: make transcribe VIDEO=path/to/video.mp4 [OUT=folder]' >&2; exit 2; }
	$(BIN)/lipread transcribe "$(VIDEO)" -o "$(OUT)"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
