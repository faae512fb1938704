"""task02 end to end in the smoke profile on real MNIST, on every backend; user images and bad files."""

import re

import numpy as np
import pytest
from PIL import Image

from conftest import BACKENDS, suite_cli
from suite.data import digits


@pytest.mark.parametrize("backend", BACKENDS)
def test_task02_smoke(smoke, backend, mnist_available):
    run = smoke("task02", backend)
    (r,) = run.records()
    m = r["metrics"]
    assert r["status"] == "ok" and r["env"]["backend"] == backend and m["test_accuracy"] > 0.5
    accs = {k: v for k, v in m.items() if k.startswith("acc[")}
    assert len(accs) == 3 * 4 + 3 and all(0 <= v <= 1 for v in accs.values())
    assert len(r["per_font"]) == len(digits.font_paths()) and len(r["per_digit"]) == 10
    sw = r["sweeps"]
    assert sw["offset_mnist_test"][0] == pytest.approx(m["test_accuracy"], abs=1e-3)  # shift 0 = the test set
    assert sw["offset_rendered"][0] == pytest.approx(m["acc[MNIST-style | square, 20% margins]"], abs=0.02)
    assert sw["box_rendered"][sw["box_px"].index(20)] == pytest.approx(sw["offset_rendered"][0])
    items = r["gallery"]["items"]
    assert not r["gallery"]["user_images"] and len(items) == 10
    assert all(abs(sum(p) - 1) < 1e-4 for it in items for p in it["probs"].values())
    text = run.writeup()
    row = re.search(r"^\| mean of the four +\| +([0-9.]+) +\| +([0-9.]+) +\| +([0-9.]+) +\|", text, re.M)
    assert row
    assert [float(v) for v in row.groups()] == pytest.approx(
        [100 * m[f"acc[{p}]"] for p in ("seed study (resize only)", "raw (resize + invert)", "MNIST-style")], abs=0.06)
    assert (run.submission / "figures" / "task02_gallery.png").stat().st_size > 10_000


def _photo(path, colour, light_on_dark):
    ink = digits.square(digits.render_digit(5, "serif"), left=0.9, top=0.3, margin=0.5)
    grey = ink if light_on_dark else 1 - ink
    img = Image.fromarray((255 * grey).astype(np.uint8))
    (img.convert("RGB") if colour else img).resize((300, 220)).save(path)


def test_task02_user_images_and_bad_files(tmp_path, mnist_available):
    good = [tmp_path / "5_photo.jpg", tmp_path / "five.png"]
    _photo(good[0], colour=True, light_on_dark=False)
    _photo(good[1], colour=False, light_on_dark=True)
    bad = tmp_path / "3_notes.png"
    bad.write_text("not an image")
    out = tmp_path / "out"
    args = ["task02", "--profile", "smoke", "--results-dir", str(out / "r"), "--submission-dir", str(out / "s")]
    proc = suite_cli([*args, "--images", str(good[0]), str(bad)])
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: image ") and str(bad) in proc.stderr
    assert "Traceback" not in proc.stderr and not (out / "r").exists()  # nothing half-written
    proc = suite_cli([*args, "--images", *map(str, good)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = (out / "s" / "Task02_CustomDigit.md").read_text()
    assert "Top-3 predictions for your images" in text
    assert re.search(r"^\| 5_photo.jpg +\| +5 +\| dark on light", text, re.M)
    assert re.search(r"^\| five.png +\| \? +\| light on dark", text, re.M)
