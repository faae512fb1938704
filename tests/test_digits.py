"""suite.data.digits: rendering, MNIST-style preprocessing, polarity, image files."""

import numpy as np
import pytest
from PIL import Image

from suite import SuiteError
from suite.data import digits


def test_fonts_render_digits_as_ink_in_unit_range():
    fonts = digits.font_paths()
    assert {"sans", "serif-italic", "mono-bold"} <= set(fonts)
    for font in ("sans", "serif-bold-italic", "cm-roman"):
        for d in (0, 1, 8):
            g = digits.render_digit(d, font)
            assert g.ndim == 2 and g.dtype == np.float32
            assert g.min() >= 0 and g.max() == pytest.approx(1.0, abs=0.02)
            assert g.shape[0] > 40  # a 96-px font gives a glyph well over 40 px tall
    with pytest.raises(SuiteError, match="unknown font"):
        digits.render_digit(3, "comic-sans")


def test_stroke_thickens_and_thins():
    base = digits.render_digit(4, "sans")
    thick = digits.render_digit(4, "sans", stroke=3)
    thin = digits.render_digit(4, "sans", stroke=-2)
    assert (thick > 0.5).sum() > 1.3 * (base > 0.5).sum() > 1.3 * (thin > 0.5).sum()


def test_mnist_style_recentres_a_shifted_digit():
    ink = digits.render_digit(2, "serif")
    photo = 1.0 - digits.square(ink, left=0.05, top=0.9, margin=0.7)  # dark on light, far off centre
    x = digits.preprocess_mnist(photo)
    assert x.shape == (28, 28) and 0 <= x.min() and x.max() <= 1
    cy, cx = digits.centre_of_mass(x)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    ys, xs = np.nonzero(x > 0.05)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 in (20, 21)  # longer side scaled to the 20-px box
    # while the raw resize leaves it off centre
    cy_raw, cx_raw = digits.centre_of_mass(digits.preprocess_raw(photo))
    assert abs(cx_raw - 14) > 3 or abs(cy_raw - 14) > 3


def test_mnist_style_on_a_shifted_mnist_like_digit():
    x = np.zeros((28, 28), np.float32)
    x[4:24, 10:18] = 1.0  # a bar 20 tall
    moved = digits.shift(x, 3, -6)
    assert moved[:7].sum() == 0 and moved[:, 18 - 6:].sum() == 0
    back = digits.preprocess_mnist(moved)
    cy, cx = digits.centre_of_mass(back)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


def test_polarity_detection_and_colour_inputs():
    ink = digits.frame(digits.render_digit(7, "mono"), 0.3, 0.3, 0.3, 0.3)
    assert not digits.is_dark_on_light(ink)
    assert digits.is_dark_on_light(1.0 - ink)
    np.testing.assert_allclose(digits.preprocess_mnist(1.0 - ink), digits.preprocess_mnist(ink), atol=1e-5)
    rgb = np.stack([255 * (1 - ink)] * 3, -1).astype(np.uint8)  # black on white, colour, uint8
    assert digits.to_grey(rgb).max() <= 1.0
    assert digits.preprocess_raw(rgb).mean() < 0.5  # inverted: mostly dark like MNIST
    assert digits.preprocess_resize_only(rgb).mean() > 0.5  # not inverted
    assert not digits.preprocess_mnist(np.full((30, 30), 0.7)).any()  # a blank image stays blank


def test_load_image_any_mode(tmp_path):
    ink = digits.frame(digits.render_digit(5, "sans"), 0.3, 0.3, 0.3, 0.3)
    grey = (255 * (1 - ink)).astype(np.uint8)
    for mode, name in (("L", "5_a.png"), ("RGB", "5_b.jpg"), ("RGBA", "c.png")):
        path = tmp_path / name
        Image.fromarray(grey).convert(mode).save(path)
        img = digits.load_image(path)
        assert img.shape == grey.shape and digits.is_dark_on_light(img)
    assert digits.label_from_name(tmp_path / "5_a.png") == 5 and digits.label_from_name("c.png") is None


def test_bad_image_files_raise_one_clear_error(tmp_path, monkeypatch):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    truncated = tmp_path / "cut.png"
    Image.fromarray(np.zeros((50, 50), np.uint8)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:60])
    for path, why in ((tmp_path / "missing.png", "no such file"), (text, "not an image"), (truncated, "unreadable"),
                      (tmp_path, "no such file")):
        with pytest.raises(SuiteError, match=why) as e:
            digits.load_image(path)
        assert str(path) in str(e.value) and "\n" not in str(e.value)
    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(big)
    monkeypatch.setattr(digits, "MAX_PIXELS", 5000)
    with pytest.raises(SuiteError, match="too large"):
        digits.load_image(big)
