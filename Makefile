# `make demo` and `make test` set themselves up: a .venv with the package and its dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean gpu-bundle

$(STAMP): requirements.txt requirements-runtime.txt requirements-full.txt requirements-test.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-test.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/zoo demo --out demo_out

# The whole suite on TensorFlow (the default backend, needed for export), then the
# backend-agnostic layer and model tests again on JAX; each in two worker processes
# (pytest-xdist), as most of a test's time is single-threaded Python and graph tracing.
test: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -n 2
	KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -n 2 tests/layers tests/zoo/test_models.py tests/zoo/test_ram.py tests/zoo/test_seq2seq.py tests/zoo/test_grid_lstm_model.py tests/zoo/test_grid_lstm_lm.py tests/zoo/test_grid_lstm_image.py tests/zoo/test_show_attend_tell.py tests/zoo/test_vqa.py tests/zoo/test_handwriting.py tests/zoo/test_draw.py tests/zoo/test_draw_classifier.py tests/zoo/test_bad_input.py tests/zoo/test_conformance.py

# What a GPU campaign needs beside the tracked tree (docs/training.md, "GPU campaigns"): data files,
# the Keras, namex and optree wheels, env.sh; prints the size that would travel without zoo/weights/.
gpu-bundle: $(STAMP)
	$(BIN)/python -m recipes.campaign --bundle .gpu

clean:
	rm -rf $(VENV) demo_out .pytest_cache
