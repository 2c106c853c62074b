"""``python -m cli``: the ``avatarium`` command."""

import sys

from cli import main

sys.exit(main())
