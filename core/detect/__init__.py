"""Person detection in photos (mediapipe, offline)."""
