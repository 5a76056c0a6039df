"""DMMV use cases: FIR filter design, weight quantization of MiniLM, discrete tomography."""
