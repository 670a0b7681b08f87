"""Tools run from the repository (benchmarks, evaluation); not part of the wheel or the image."""
