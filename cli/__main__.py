"""``python -m cli``: the same as the ``promptship`` command."""

import sys

from cli.main import main

sys.exit(main())
