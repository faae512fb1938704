"""Model builders: plain functions returning `keras.Model`."""
