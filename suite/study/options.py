"""Task options: what `--set key=value` may change, declared per task as a frozen dataclass.

A task declares `Options` with a default and a one-line help per field:

    @dataclass(frozen=True)
    class Options:
        images: tuple[str, ...] = option((), "your own digit images (PNG/JPEG paths)")

`parse(Options, ["images=a.png,b.png"])` returns an instance; an unknown key or a value that
does not convert raises a `SuiteError` naming the key and the valid ones. Validation that
needs more than a type (a file that must exist) goes in the dataclass's `__post_init__`.
"""

import dataclasses
import types
import typing
from dataclasses import dataclass

from suite import SuiteError


@dataclass(frozen=True)
class NoOptions:
    """The options of a task that declares none."""


def option(default, help):
    """A dataclass field with a default and its one-line help (shown by `suite.run list`)."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("option defaults must be immutable: use a tuple")
    return dataclasses.field(default=default, metadata={"help": help})


def declared(module):
    """The task module's `Options` class, or `NoOptions`."""
    return getattr(module, "Options", NoOptions)


def _convert(text, kind, key):
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):  # e.g. int | None
        if text.lower() == "none" and type(None) in args:
            return None
        kind = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        item = args[0] if args else str
        return tuple(_convert(part.strip(), item, key) for part in text.split(",") if part.strip())
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    return kind(text)


def parse(cls, pairs):
    """An instance of options class `cls` from `["key=value", ...]` (tuples: comma-separated)."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    valid = ", ".join(names) or "none (this task takes no options)"
    values = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep:
            raise SuiteError(f"--set {pair!r}: expected key=value (valid keys: {valid})")
        if key not in names:
            raise SuiteError(f"unknown option {key!r} (valid keys: {valid})")
        try:
            values[key] = _convert(text.strip(), hints[key], key)
        except (ValueError, TypeError) as e:
            raise SuiteError(f"option {key}={text!r}: {e} (type {_type_name(hints[key])})") from None
    return cls(**values)


def changed(options):
    """The options that differ from their defaults, as a dict (what a result record stores)."""
    default = type(options)()
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)
            if getattr(options, f.name) != getattr(default, f.name)}


def _type_name(kind):
    return getattr(kind, "__name__", None) or str(kind).replace("typing.", "")


def describe(cls):
    """One line per option: `key (type, default D): help`."""
    hints = typing.get_type_hints(cls)
    return [f"{f.name} ({_type_name(hints[f.name])}, default {f.default!r}): {f.metadata.get('help', '')}"
            for f in dataclasses.fields(cls)]
