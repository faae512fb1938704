"""The study contract and its machinery: catalogue, profiles, stages, runner, results store, progress."""
