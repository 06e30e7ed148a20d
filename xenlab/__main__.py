"""`python -m xenlab ...`: see xenlab.cli."""

import sys

from xenlab.cli import main

sys.exit(main())
