"""Fixtures for the data tests: an isolated cache directory, so no test reads or writes ~/.cache."""

import pytest


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("gradwise-cache")


@pytest.fixture(autouse=True)
def isolated_cache(_session_cache, monkeypatch):
    """Every test sees GRADWISE_CACHE_DIR set to one temporary directory shared by the session."""
    monkeypatch.setenv("GRADWISE_CACHE_DIR", str(_session_cache))
    return _session_cache


@pytest.fixture
def write(tmp_path):
    """write(name, text) -> path of a new file in a fresh temporary directory."""

    def _write(name, text):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
