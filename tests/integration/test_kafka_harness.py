"""The broker harness itself: a start must never fail on the random cluster id."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from devstack import KafkaBroker

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration


def test_a_cluster_id_that_looks_like_an_option_still_formats_and_starts(tmp_path: Path):
    # Before the fix, `-t -Xy…` made the storage tool stop with "expected one argument".
    broker = KafkaBroker(tmp_path / "dashy", cluster_id="-AbCdEfGhIjKlMnOpQrStU")
    try:
        broker.start()
        assert broker.is_running()
        meta = (tmp_path / "dashy" / "data" / "meta.properties").read_text()
        assert "cluster.id=-AbCdEfGhIjKlMnOpQrStU" in meta
    finally:
        broker.stop()
