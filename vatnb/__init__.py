"""vatnb: the companion package of the Value Alignment Tax book."""

__version__ = "0.1.0"
