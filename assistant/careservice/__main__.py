"""``python -m assistant.careservice``: run the care service until SIGTERM or Ctrl-C."""

import sys

from assistant.careservice.main import main

sys.exit(main())
