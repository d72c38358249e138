"""One module per surface; each has register(app, services)."""
