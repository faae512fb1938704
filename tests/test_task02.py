"""task02: user images and bad files (its smoke run on every backend is in tests/test_smoke.py)."""

import re

import numpy as np
from PIL import Image

from conftest import suite_cli
from suite.data import digits


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
