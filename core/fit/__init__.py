"""Fitting a body model to a photo: targets, objective, staged optimisation, overlays."""
