"""Rendering maths shared by the viewport and offline renderers."""
