"""Measures computed from a trained model or its outputs: calibration, confusion, curves, gaps, sharpness, shift."""
