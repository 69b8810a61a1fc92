#!/usr/bin/env python
from __future__ import annotations

import sys

from townsquare.cli import main

if __name__ == "__main__":
    sys.exit(main())
