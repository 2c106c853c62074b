"""Avatarium computation: data model, I/O, cameras and rendering maths. Never imports Qt."""

__version__ = "0.1.0"
