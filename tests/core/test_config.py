"""Configuration: arguments win over the environment; the key stays secret."""

from __future__ import annotations

import pytest

from smooth_agents import AsyncSmoothClient, SmoothClient
from smooth_agents.config import DEFAULT_BASE_URL, resolve_config


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("SMOOTH_API_KEY", "CIRCLEMIND_API_KEY", "SMOOTH_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)


def test_no_key_means_the_embedded_server() -> None:
    config = resolve_config()
    assert config.embedded
    assert config.base_url == DEFAULT_BASE_URL


@pytest.mark.parametrize("variable", ["SMOOTH_API_KEY", "CIRCLEMIND_API_KEY"])
def test_key_from_either_variable(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "sk-env-1")
    config = resolve_config()
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == "sk-env-1"
    assert config.api_url == "https://api.smooth.sh/api/v1"


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOOTH_API_KEY", "sk-env")
    monkeypatch.setenv("SMOOTH_BASE_URL", "http://env.example/api/")
    config = resolve_config("sk-arg", "http://arg.example/api")
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == "sk-arg"
    assert config.api_url == "http://arg.example/api/v1"
    assert resolve_config("k", "http://x.example/api/v1/").api_url == "http://x.example/api/v1"


def test_smooth_base_url_without_a_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMOOTH_BASE_URL", "http://127.0.0.1:8321/api/")
    with pytest.raises(ValueError, match="no API key"):
        resolve_config()


@pytest.mark.parametrize(("timeout", "retries"), [(0, 3), (-1, 3), (5, -1)])
def test_bad_numbers_are_refused(timeout: float, retries: int) -> None:
    with pytest.raises(ValueError, match=r"timeout|max_retries"):
        resolve_config("k", timeout=timeout, max_retries=retries)


def test_the_key_never_shows_in_reprs() -> None:
    secret = "sk-live-do-not-print-9876"
    config = resolve_config(secret)
    for text in (repr(config), str(config), repr(AsyncSmoothClient(api_key=secret))):
        assert secret not in text
    with SmoothClient(api_key=secret) as client:
        assert secret not in repr(client)
