"""``python -m pipeline``: the command line (``pipeline/cli.py``)."""

import sys

from pipeline.cli import main

sys.exit(main())
