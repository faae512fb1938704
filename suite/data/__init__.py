"""Datasets: local npz copies first, then a user cache, then a download (DESIGN.md section 8)."""
