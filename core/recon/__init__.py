"""Reconstruction: the network that turns a photo and a fitted body into Gaussians, and its inference."""
