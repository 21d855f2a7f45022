import sys

from lipread.cli.main import main

sys.exit(main())
