"""Where the bundled data folders live, in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    # In a checkout (or an editable install) the folders sit beside the package; a wheel
    # carries them inside it as monitor/_data/<name>.
    beside = _PKG.parent / name
    if beside.is_dir():
        return beside
    return _PKG / "_data" / name


def rules_dir() -> Path:
    """The bundled policy packs (``rules/``)."""
    return _data_dir("rules")


def models_dir() -> Path:
    """The bundled classifier artifacts (``models/``)."""
    return _data_dir("models")


def demo_dir() -> Path:
    """The bundled demo organisation and posts."""
    return _PKG / "demo_data"
