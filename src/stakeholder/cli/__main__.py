import sys

from stakeholder.cli import main

sys.exit(main())
