"""suite.measures.shift (translation and mask probes) and suite.measures.confusion (error structure), on synthetic arrays."""

import numpy as np
import pytest

from suite.measures import confusion, shift


def test_translate_moves_content_and_fills_the_vacated_strip():
    x = np.arange(2 * 5 * 5 * 3, dtype=np.float32).reshape(2, 5, 5, 3) + 1
    out = shift.translate(x, 2, -1, fill=0.0)
    np.testing.assert_array_equal(out[:, 2:, :4], x[:, :3, 1:])
    assert (out[:, :2] == 0).all() and (out[:, :, 4] == 0).all()
    np.testing.assert_array_equal(shift.translate(x, 0, 0), x)
    assert (shift.translate(x, 0, 5, fill=7.0) == 7.0).all()


def test_translate_round_trip_keeps_the_interior():
    x = np.random.default_rng(0).random((3, 8, 8, 1))
    back = shift.translate(shift.translate(x, 1, 2), -1, -2)
    np.testing.assert_array_equal(back[:, :7, :6], x[:, :7, :6])


def test_per_channel_fill():
    out = shift.translate(np.ones((1, 4, 4, 3)), 0, 1, fill=(0.1, 0.2, 0.3))
    np.testing.assert_allclose(out[0, :, 0], np.tile([0.1, 0.2, 0.3], (4, 1)))


def test_masks_are_complementary_shapes_with_the_asked_fraction():
    centre, border = shift.matched_masks(0.25)
    assert centre.shape == border.shape == (32, 32)
    assert centre.sum() == 16 * 16 and centre[15, 15] and not centre[0, 0]
    assert border.sum() == 32 * 32 - 28 * 28 and border[0, 0] and not border[16, 16]
    assert abs(centre.mean() - 0.25) < 0.01 and abs(border.mean() - 0.25) < 0.02
    assert not (shift.centre_mask(16) & shift.border_mask(16)).any()


def test_apply_mask_touches_only_masked_pixels():
    x = np.ones((2, 32, 32, 3), np.float32)
    m = shift.centre_mask(8)
    out = shift.apply_mask(x, m, (0.5, 0.4, 0.3))
    np.testing.assert_allclose(out[:, m], np.broadcast_to([0.5, 0.4, 0.3], out[:, m].shape))
    assert (out[:, ~m] == 1).all() and (x == 1).all()


def _centre_reader(x):
    """A 'model' that reads only the centre pixel: class = whether it is bright."""
    return (x[:, 16, 16, 0] > 0.5).astype(int)


def test_probe_accuracies_follow_what_the_model_reads():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    x = np.zeros((200, 32, 32, 1), np.float32)
    x[:, 12:21, 12:21, 0] = y[:, None, None]  # a 9x9 bright square for class 1
    acc = shift.shift_accuracy(_centre_reader, x, y, (0, 2, 4, 6))
    assert acc[0] == acc[2] == acc[4] == 1.0  # the square still covers the centre after 4 px
    assert acc[6] == pytest.approx(np.mean(y == 0))  # moved off the centre: everything reads as class 0
    masked = shift.mask_accuracy(_centre_reader, x, y, {"centre": shift.centre_mask(4), "border": shift.border_mask(28)}, 0.0)
    assert masked["border"] == 1.0 and masked["centre"] == pytest.approx(np.mean(y == 0))


def test_confusion_pairs_and_top_share():
    m = confusion.matrix([0, 0, 1, 1, 2, 2, 2], [0, 1, 0, 1, 2, 0, 1], 3)
    assert m.tolist() == [[1, 1, 0], [1, 1, 0], [1, 1, 1]]
    assert confusion.pairs(m)[0] == (0, 1, 2.0)
    assert confusion.top_share(m, 1) == pytest.approx(2 / 4)
    assert np.isnan(confusion.top_share(np.eye(3), 1))


def test_structured_errors_beat_the_uniform_null_and_uniform_ones_do_not():
    structured = np.diag([900.0] * 10)
    structured[3, 5] = structured[5, 3] = 100  # all errors in one pair
    null = confusion.null_top_share(structured, 1, draws=200)
    assert confusion.top_share(structured, 1) == 1.0 > np.quantile(null, 0.99)
    uniform = np.full((10, 10), 20.0)
    np.fill_diagonal(uniform, 800)
    null = confusion.null_top_share(uniform, 5, draws=200)
    assert confusion.top_share(uniform, 5) <= np.quantile(null, 0.99)
    assert null.shape == (200,) and ((0 <= null) & (null <= 1)).all()
