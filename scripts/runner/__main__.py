import sys

from scripts.runner.main import main

sys.exit(main())
