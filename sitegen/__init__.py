"""runpages site generator: run folders in, static logbook site out."""
__version__ = "0.1.0"
