"""mipguide service.solvers package."""
