"""kefu.testing.browser without its peers: a missing Chromium skips the browser tests with the
reason locally and fails them in CI (``KEFU_REQUIRE_ALL_PEERS=1``), as every missing peer does."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.testing.browser import launch_chromium


def test_a_missing_chromium_skips_locally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEFU_REQUIRE_ALL_PEERS", raising=False)
    with (
        pytest.raises(pytest.skip.Exception, match="no-chromium is missing"),
        launch_chromium(tmp_path / "no-chromium"),
    ):
        pass


def test_a_missing_chromium_fails_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_REQUIRE_ALL_PEERS", "1")
    with (
        pytest.raises(pytest.fail.Exception, match="KEFU_REQUIRE_ALL_PEERS"),
        launch_chromium(tmp_path / "no-chromium"),
    ):
        pass
