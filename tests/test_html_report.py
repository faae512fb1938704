"""`python -m suite.report --html`: the submission folder as static pages whose images exist and
whose local links resolve (checked in Python, and in headless Chromium when it is installed)."""

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from suite import SuiteError
from suite.report import html
from conftest import ROOT, suite_cli

SCREENSHOT = Path("/tmp/html_report.png")


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])


def _refs(page):
    refs = _Refs()
    refs.feed(page.read_text())
    return refs


def _local(page, url):
    """The file a local URL of `page` names, or None for a remote one."""
    parts = urlsplit(url)
    return None if parts.scheme or parts.netloc or not parts.path else page.parent / unquote(parts.path)


def _check_pages(out):
    """Every image file exists and every local link resolves; returns {page: its image files}."""
    pages = sorted(out.rglob("*.html"))
    shown = {}
    for page in pages:
        refs = _refs(page)
        shown[page] = [_local(page, src) for src in refs.images if _local(page, src)]
        assert all(f.is_file() for f in shown[page]), (page, refs.images)
        broken = [href for href in refs.links if _local(page, href) and not _local(page, href).is_file()]
        assert not broken, (page, broken)
    return shown


def test_links_between_writeups_become_page_links_and_figures_are_copied(tmp_path):
    sub = tmp_path / "submission"
    (sub / "figures").mkdir(parents=True)
    (sub / "custom" / "quick").mkdir(parents=True)
    shutil.copyfile(ROOT / "submission" / "figures" / "task07_curves.png", sub / "figures" / "a.png")
    (sub / "README.md").write_text("# Index\n\n| study | x |\n|---|---|\n| [one](One.md) | 1 |\n\n"
                                   "- [nested](custom/quick/Two.md#setup)\n- [web](https://example.org/x.md)\n")
    (sub / "One.md").write_text("# One\n\n![curves](figures/a.png)\n\nBack to the [index](README.md).\n\n"
                                "```\ncode <b>\n```\n")
    (sub / "custom" / "quick" / "Two.md").write_text("# Two\n\n![curves](../../figures/a.png)\n")
    out = tmp_path / "html"
    assert html.write(sub, out) == out / "index.html"
    index = _refs(out / "index.html")
    assert index.links == ["One.html", "custom/quick/Two.html#setup", "https://example.org/x.md"]
    assert "<table>" in (out / "index.html").read_text() and "<li>" in (out / "index.html").read_text()
    one = (out / "One.html").read_text()
    assert "<title>One</title>" in one and 'href="index.html"' in one and "code &lt;b&gt;" in one
    assert _refs(out / "custom" / "quick" / "Two.html").links == ["../../index.html"]  # the nav link
    shown = _check_pages(out)
    assert shown[out / "One.html"] == [out / "figures" / "a.png"]

    (sub / "One.md").write_text("# One\n\n![gone](figures/missing.png)\n")
    with pytest.raises(SuiteError, match=r"One.md shows figures/missing.png, which does not exist"):
        html.write(sub, out)


def test_the_shipped_submission_renders_with_every_image_and_link_in_place(tmp_path):
    out = tmp_path / "html"
    proc = suite_cli(["--html", "--out", str(out)], module="suite.report")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out / 'index.html'}"
    shown = _check_pages(out)
    writeups = sorted(p.name for p in (ROOT / "submission").glob("Task*.md"))
    assert sorted(p.name for p in shown if p.name != "index.html") == [html.page_path(w).name for w in writeups]
    assert sum(map(len, shown.values())) >= len(writeups)
    assert {href for href in _refs(out / "index.html").links} >= {html.page_path(w).name for w in writeups}

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium): checked in Python only")
    # One page that shows every image of every page, and marks those the browser could not decode.
    images = sorted({f.relative_to(out).as_posix() for files in shown.values() for f in files})
    probe = out / "probe.html"
    probe.write_text("<!doctype html><body>" + "".join(f'<img src="{src}">' for src in images) +
                     "<script>addEventListener('load', () => document.body.dataset.broken = [...document.images]"
                     ".filter(i => !i.complete || i.naturalWidth === 0).length)</script></body>")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
    dom = subprocess.run([*flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert 'data-broken="0"' in dom and dom.count("<img") == len(images), dom[-2000:]
    index = subprocess.run([*flags, "--dump-dom", (out / "index.html").as_uri()], capture_output=True, text=True,
                           timeout=120).stdout
    assert all(f'href="{html.page_path(w).name}"' in index for w in writeups)
    SCREENSHOT.unlink(missing_ok=True)
    subprocess.run([*flags, "--window-size=1400,1000", f"--screenshot={SCREENSHOT}", (out / "index.html").as_uri()],
                   capture_output=True, timeout=120)
    assert SCREENSHOT.stat().st_size > 10_000
