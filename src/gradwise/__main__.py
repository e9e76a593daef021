"""`python -m gradwise` is the `gradwise` command."""

import sys

from .cli import main

sys.exit(main())
