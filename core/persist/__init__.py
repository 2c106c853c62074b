"""Saving and reopening avatars: the avatar bundle and the recovery session."""
