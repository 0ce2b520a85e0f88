"""``python -m logger.importers SOURCE [-o RUNS_DIR] [--project NAME] [--pattern REGEX]``."""
import sys

from . import main

sys.exit(main())
