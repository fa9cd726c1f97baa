import sys

try:
    from .cli import main
except KeyboardInterrupt:            # Ctrl-C while starting: one line, like everywhere else
    print("interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
