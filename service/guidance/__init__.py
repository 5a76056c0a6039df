"""mipguide.guidance: ML-guided solving (PaS, SRG) on top of the exact pipeline: guides propose a
start, a trust region and an LNS guide; ``run.run_guided`` does the search and verification."""
