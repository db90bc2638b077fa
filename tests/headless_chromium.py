"""Render a page in headless Chromium (Debian's `chromium` package): a screenshot and the
DOM after scripts ran. Tests that need it skip without Chromium here and fail in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
    "--virtual-time-budget=10000",
)


def chromium() -> str:
    """Path of the Chromium binary; fails in CI, skips elsewhere, when it is missing."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    message = "headless Chromium is missing (apt-get install chromium)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _run(page: Path, *extra: str) -> str:
    with tempfile.TemporaryDirectory(prefix="stakeholder-chromium-") as profile:
        result = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def screenshot(page: Path, png: Path, *, width: int = 1200, height: int = 1600) -> Path:
    """A PNG of `page` as Chromium renders it at `width` x `height`."""
    _run(page, f"--screenshot={png}", f"--window-size={width},{height}")
    assert png.exists(), f"Chromium wrote no screenshot of {page}"
    return png


def dump_dom(page: Path) -> str:
    """The page's DOM, serialized after its scripts ran."""
    return _run(page, "--dump-dom")


def ink(png: Path) -> float:
    """Share of the screenshot's pixels that are not the background colour."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=rgb.width * rgb.height) or []
        background = max(n for n, _ in colours)
        return 1 - background / (rgb.width * rgb.height)
