"""Allow ``python -m posecoach``."""

import sys

from posecoach.cli import main

sys.exit(main())
