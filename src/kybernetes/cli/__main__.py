import sys

from kybernetes.cli import main

sys.exit(main())
