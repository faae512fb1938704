"""suite.data.augment: crop within the padding, flip is a mirror, batches, training-only use."""

import keras
import numpy as np

from suite.data.augment import AugmentedBatches, crop_flip


def _images(n=16, size=8):
    rng = np.random.default_rng(1)
    return rng.random((n, size, size, 3)).astype(np.float32) + 1.0  # strictly positive: padding (0) is visible


def _windows(img, padding):
    """Every crop (with and without mirroring) of one zero-padded image."""
    p = np.pad(img, ((padding, padding), (padding, padding), (0, 0)))
    h, w = img.shape[:2]
    out = []
    for dy in range(2 * padding + 1):
        for dx in range(2 * padding + 1):
            win = p[dy:dy + h, dx:dx + w]
            out += [win, win[:, ::-1]]
    return out


def test_shape_and_dtype_are_kept():
    x = _images()
    out = crop_flip(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == x.dtype


def test_every_output_is_a_crop_of_the_padded_image_within_the_padding():
    x = _images(32)
    out = crop_flip(x, np.random.default_rng(0), padding=2)
    for img, o in zip(x, out):
        assert any(np.array_equal(o, win) for win in _windows(img, 2))
        zeros = (o == 0).all(axis=-1)
        # at most 2 padded rows and columns can show
        assert zeros.all(axis=1).sum() <= 2 and zeros.all(axis=0).sum() <= 2


def test_offsets_cover_the_range_and_flip_half_the_time():
    x = np.broadcast_to(np.arange(1, 9, dtype=np.float32)[None, None, :, None], (4000, 8, 8, 1)).copy()
    out = crop_flip(x, np.random.default_rng(0), padding=2)
    black_top = (out[:, :, :, 0] == 0).all(axis=2).sum(axis=1)  # padded rows showing, 0..2
    assert set(np.unique(black_top)) == {0, 1, 2}
    row = out[:, 4, :, 0]  # row 4 is image content for every vertical offset
    steps = np.diff(np.where(row > 0, row, np.nan), axis=1)
    mirrored = np.nanmax(steps, axis=1) < 0  # columns count down: the image was flipped
    assert ((np.nanmin(steps, axis=1) > 0) ^ mirrored).all()
    assert 0.45 < mirrored.mean() < 0.55


def test_flip_only_is_an_exact_mirror():
    x = _images(64)
    out = crop_flip(x, np.random.default_rng(0), padding=0)
    mirrored = np.array([np.array_equal(o, i[:, ::-1]) for o, i in zip(out, x)])
    same = np.array([np.array_equal(o, i) for o, i in zip(out, x)])
    assert (mirrored ^ same).all() and 0 < mirrored.sum() < 64


def test_no_padding_no_flip_is_identity():
    x = _images()
    assert np.array_equal(crop_flip(x, np.random.default_rng(0), padding=0, flip=False), x)


def test_batches_cover_every_image_once_per_epoch_and_reshuffle():
    x = np.arange(300, dtype=np.float32)[:, None, None, None] * np.ones((1, 4, 4, 1), np.float32)
    y = np.arange(300)
    batches = AugmentedBatches(x, y, 128, padding=0, flip=False)
    assert len(batches) == 3
    seen = np.concatenate([batches[i][1] for i in range(3)])
    assert sorted(seen) == list(range(300))
    for i in range(3):  # images travel with their labels
        xb, yb = batches[i]
        assert np.array_equal(xb[:, 0, 0, 0], yb.astype(np.float32))
    first = batches[0][1].copy()
    batches.on_epoch_end()
    assert not np.array_equal(first, batches[0][1])


class _Counting(AugmentedBatches):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.served = 0

    def __getitem__(self, i):
        self.served += 1
        return super().__getitem__(i)


def test_augmentation_is_inactive_at_inference():
    """Augmentation lives in the training batches only: the model itself is deterministic, and
    evaluation and prediction never draw from the augmenting pipeline."""
    from suite.training.cifar import Config, build

    x = _images(64, size=32)
    y = np.arange(64) % 10
    c = Config("crop_flip", epochs=1, train_size=64, test_size=64, augment=True)
    model = build(c)
    plain = build(Config("plain", epochs=1, train_size=64, test_size=64))
    assert [type(l) for l in model.layers] == [type(l) for l in plain.layers]  # no random layers in the model
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    batches = _Counting(x, y, 16)
    model.fit(batches, epochs=1, verbose=0)
    assert batches.served >= len(batches)
    served = batches.served
    first = model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    np.testing.assert_array_equal(first, model.predict(x, verbose=0))
    assert batches.served == served
