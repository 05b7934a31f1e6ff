import sys

try:  # Ctrl-C while the command line loads: the shell's code for SIGINT, not a traceback
    from lrdoctor.cli import main
except KeyboardInterrupt:
    sys.exit(130)

main()
