"""``python -m pmgfast``: the same as the ``pmgfast`` command."""

import sys

from pmgfast.cli import main

sys.exit(main())
