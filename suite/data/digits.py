"""Digits from outside MNIST: rendered from the fonts matplotlib ships, or read from image files,
and the two ways of turning them into 28x28 model inputs.

- `preprocess_resize_only`: resize the whole image to 28x28 grey (the seed study's photos).
- `preprocess_raw`: resize the whole image to 28x28, scale to [0, 1], invert dark-on-light
  images (what the seed study did with its photos, plus the inversion).
- `preprocess_mnist`: LeCun's MNIST recipe: tight bounding box of the ink, longer side scaled
  to 20 px (aspect kept), pasted into 28x28 so that the centre of mass lands on pixel (14, 14),
  the mean centre of mass of the MNIST training digits.

Images are float arrays in [0, 1], shape (H, W); "ink" images are light-on-dark like MNIST.
Nothing here touches the network: the fonts come with matplotlib, user images go through PIL.
"""

from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from PIL import Image, ImageOps, UnidentifiedImageError

from suite import SuiteError

CENTRE = 14.0  # MNIST's mean centre of mass, in pixel indices of the 28x28 field
BOX = 20  # the longer side of the ink's bounding box in MNIST
INK_THRESHOLD = 0.2  # ink level (after background removal) that counts for the bounding box
MAX_FILE_BYTES = 50 * 2**20
MAX_PIXELS = 40_000_000

# The digit fonts matplotlib ships (file name in mpl-data/fonts/ttf -> short label): three
# DejaVu families x regular/bold x upright/slanted, the STIX set and three Computer Modern faces.
FONTS = {
    "DejaVuSans.ttf": "sans", "DejaVuSans-Bold.ttf": "sans-bold", "DejaVuSans-Oblique.ttf": "sans-oblique",
    "DejaVuSans-BoldOblique.ttf": "sans-bold-oblique",
    "DejaVuSerif.ttf": "serif", "DejaVuSerif-Bold.ttf": "serif-bold", "DejaVuSerif-Italic.ttf": "serif-italic",
    "DejaVuSerif-BoldItalic.ttf": "serif-bold-italic",
    "DejaVuSansMono.ttf": "mono", "DejaVuSansMono-Bold.ttf": "mono-bold", "DejaVuSansMono-Oblique.ttf": "mono-oblique",
    "DejaVuSansMono-BoldOblique.ttf": "mono-bold-oblique",
    "STIXGeneral.ttf": "stix", "STIXGeneralBol.ttf": "stix-bold", "STIXGeneralItalic.ttf": "stix-italic",
    "STIXGeneralBolIta.ttf": "stix-bold-italic",
    "cmr10.ttf": "cm-roman", "cmss10.ttf": "cm-sans", "cmtt10.ttf": "cm-typewriter",
}


def font_paths():
    """`{label: path}` of the `FONTS` present in this matplotlib installation."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {label: folder / file for file, label in FONTS.items() if (folder / file).is_file()}


@lru_cache(maxsize=512)
def _glyph(digit, font, size):
    path = font_paths()[font]
    canvas_px = 2 * size
    fig = Figure(figsize=(1, 1), dpi=canvas_px)
    FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, str(digit), fontproperties=FontProperties(fname=str(path)), fontsize=size * 72 / canvas_px,
             ha="center", va="center", color="black")
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    ink = 1.0 - rgba[..., :3].mean(axis=-1) / 255.0
    return _crop(ink.astype(np.float32), 0.05)


def render_digit(digit, font="sans", size=96, stroke=0.0):
    """A digit drawn with one of matplotlib's fonts, cropped to its ink: light-on-dark in [0, 1].

    Args:
        digit: 0..9.
        font: a label of `font_paths()`. Defaults to `"sans"` (DejaVu Sans).
        size: font size in pixels (the glyph is about 0.73 of it tall). Defaults to `96`.
        stroke: grow (> 0) or thin (< 0) the strokes by this many pixels of the rendering, by
            a grey dilation or erosion with a disk. Defaults to `0.0`.

    Example:
        >>> render_digit(7, "serif-italic").max()
        1.0
    """
    if font not in font_paths():
        raise SuiteError(f"unknown font {font!r}: choose one of {', '.join(font_paths())}")
    ink = _glyph(int(digit), font, int(size))
    if stroke:
        pad = int(np.ceil(abs(stroke)))
        ink = _crop(morph(np.pad(ink, pad), stroke), 0.05)
    return ink


def morph(ink, radius):
    """Grey dilation (radius > 0) or erosion (radius < 0) of `ink` with a disk of `|radius|` px."""
    r = abs(radius)
    k = int(np.floor(r))
    offsets = [(dy, dx) for dy in range(-k, k + 1) for dx in range(-k, k + 1) if dy * dy + dx * dx <= r * r]
    pick = np.maximum if radius > 0 else np.minimum
    fill = 0.0 if radius > 0 else 1.0
    padded = np.pad(ink, k, constant_values=fill)
    out = ink.copy()
    h, w = ink.shape
    for dy, dx in offsets:
        out = pick(out, padded[k + dy:k + dy + h, k + dx:k + dx + w])
    return out


def _crop(ink, threshold):
    ys, xs = np.nonzero(ink > threshold)
    if len(ys) == 0:
        return ink
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def frame(ink, left=0.0, right=0.0, top=0.0, bottom=0.0):
    """Place a cropped digit on a dark canvas with margins given as fractions of its height.

    This is how a photo is framed before any preprocessing: `frame(ink)` is a tight crop;
    `frame(ink, 0.3, 0.3, 0.3, 0.3)` a loose one; a large `left` puts the digit off centre.
    """
    h, w = ink.shape
    m = [int(round(f * h)) for f in (top, bottom, left, right)]
    return np.pad(ink, ((m[0], m[1]), (m[2], m[3])))


def square(ink, left=0.0, top=0.0, margin=0.2):
    """Frame a digit in a square canvas with `margin` (fraction of the longer side) around it,
    the spare room split by `left`/`top` in [0, 1] (0.5 centres it; 0 puts it at the left/top)."""
    h, w = ink.shape
    side = int(round(max(h, w) * (1 + 2 * margin)))
    dx, dy = int(round((side - w) * left)), int(round((side - h) * top))
    return np.pad(ink, ((dy, side - h - dy), (dx, side - w - dx)))


# ---------------------------------------------------------------- preprocessing

def to_grey(img):
    """An image array (H, W), (H, W, 3) or (H, W, 4), integer (0..255) or float (0..1), as float grey in [0, 1]."""
    raw = np.asarray(img)
    a = raw.astype(np.float32) / (255.0 if raw.dtype.kind in "ui" else 1.0)
    if a.ndim == 3 and a.shape[-1] in (3, 4):
        if a.shape[-1] == 4:  # composite over white, as a viewer would show it
            a = a[..., :3] * a[..., 3:] + (1 - a[..., 3:])
        a = a @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if a.ndim != 2:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, 3|4), got {raw.shape}")
    return np.clip(a, 0, 1)


def background(grey):
    """The background level: the median of the image's outer border (5% of each side, >= 1 px)."""
    h, w = grey.shape
    by, bx = max(1, h // 20), max(1, w // 20)
    border = np.concatenate([grey[:by].ravel(), grey[-by:].ravel(), grey[:, :bx].ravel(), grey[:, -bx:].ravel()])
    return float(np.median(border))


def is_dark_on_light(grey):
    """True when the background (border median) is lighter than mid-grey: ink must be inverted."""
    return background(grey) > 0.5


def as_ink(grey):
    """Light-on-dark version of a grey image (inverted if it is dark-on-light)."""
    return 1.0 - grey if is_dark_on_light(grey) else grey


def resize(a, shape):
    """A float image resized to `shape` = (rows, cols): area averaging when shrinking, bilinear when growing."""
    img = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32), mode="F")
    return np.asarray(img.resize((shape[1], shape[0]), Image.Resampling.BOX if min(shape) < min(a.shape)
                                 else Image.Resampling.BILINEAR), dtype=np.float32)


def preprocess_resize_only(img):
    """Resize the whole image to 28x28 grey, nothing else (the seed study's photos: no inversion)."""
    return np.clip(resize(to_grey(img), (28, 28)), 0, 1)


def preprocess_raw(img):
    """Resize the whole image to 28x28 and invert it if it is dark-on-light: no crop, no centring."""
    return np.clip(resize(as_ink(to_grey(img)), (28, 28)), 0, 1)


def centre_of_mass(ink):
    """(row, col) centre of mass of a non-negative image."""
    total = ink.sum()
    if total <= 0:
        return (ink.shape[0] - 1) / 2, (ink.shape[1] - 1) / 2
    ys, xs = np.indices(ink.shape)
    return float((ys * ink).sum() / total), float((xs * ink).sum() / total)


def preprocess_mnist(img, box=BOX, field=28):
    """LeCun's MNIST preprocessing of a digit image of any size, colour and polarity.

    The ink (light-on-dark, background level removed, stretched to peak 1) is cut to its
    bounding box, its longer side scaled to `box` px with the aspect kept, and pasted into a
    `field` x `field` image so that its centre of mass is at (14, 14) scaled to the field;
    the shift is limited so that the box stays inside the field.

    Args:
        img: an image array (see `to_grey`).
        box: longer side of the digit after scaling, in pixels. Defaults to `20`.
        field: output size. Defaults to `28`.

    Returns:
        float32 array (field, field) in [0, 1].

    Example:
        >>> x = preprocess_mnist(render_digit(3))
        >>> x.shape, [round(c) for c in centre_of_mass(x)]
        ((28, 28), [14, 14])
    """
    ink = as_ink(to_grey(img))
    bg = background(ink)
    peak = ink.max()
    if peak - bg <= 1e-6:
        return np.zeros((field, field), np.float32)  # a blank image stays blank
    ink = np.clip((ink - bg) / (peak - bg), 0, 1)
    ink = _crop(ink, INK_THRESHOLD)
    h, w = ink.shape
    scale = min(box, field) / max(h, w)
    h2, w2 = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    digit = np.clip(resize(ink, (h2, w2)), 0, 1)
    cy, cx = centre_of_mass(digit)
    target = CENTRE * field / 28
    top = int(np.clip(round(target - cy), 0, field - h2))
    left = int(np.clip(round(target - cx), 0, field - w2))
    out = np.zeros((field, field), np.float32)
    out[top:top + h2, left:left + w2] = digit
    return out


def shift(x, dy, dx):
    """Translate images (..., H, W) by whole pixels, filling with zeros (nothing wraps around)."""
    out = np.zeros_like(x)
    h, w = x.shape[-2:]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = x[..., ys, xs]
    return out


# ---------------------------------------------------------------- user images

def load_image(path):
    """Read an image file as float grey in [0, 1], or raise a `SuiteError` naming the file.

    Colour, palette and transparent images are converted (transparency over white); EXIF
    rotation is applied, as photo viewers do.
    """
    p = Path(path)
    if not p.is_file():
        raise SuiteError(f"image {path}: no such file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SuiteError(f"image {path}: {size / 2**20:.0f} MB is too large (limit {MAX_FILE_BYTES // 2**20} MB); "
                         "pass a smaller copy")
    try:
        with Image.open(p) as im:
            if im.width * im.height > MAX_PIXELS:
                raise SuiteError(f"image {path}: {im.width}x{im.height} pixels is too large "
                                 f"(limit {MAX_PIXELS // 10**6} megapixels); pass a smaller copy")
            im = ImageOps.exif_transpose(im)
            im = im.convert("RGBA") if "A" in im.getbands() or "transparency" in im.info else im.convert("RGB")
            arr = np.asarray(im)
    except SuiteError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise SuiteError(f"image {path}: not an image PIL can read (PNG, JPEG, BMP, GIF, TIFF, ...)") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise SuiteError(f"image {path}: unreadable ({e})") from None
    if min(arr.shape[:2]) < 1:
        raise SuiteError(f"image {path}: empty image")
    return to_grey(arr)


def label_from_name(path):
    """The digit a file name starts with (`5_tight.jpg` -> 5), or `None` when it starts otherwise."""
    stem = Path(path).name
    return int(stem[0]) if stem[:1].isdigit() else None
