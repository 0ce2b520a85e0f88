"""runpages logger: record training runs as plain files (see logger/schema.py)."""
__version__ = "0.1.0"
