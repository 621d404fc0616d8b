import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture
def zoo_home(tmp_path, monkeypatch):
    """An empty weight cache, so tests never touch the user's ~/.cache."""
    monkeypatch.setenv("ATTENTION_ZOO_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"
