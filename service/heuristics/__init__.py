"""mipguide service.heuristics package."""
