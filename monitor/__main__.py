"""Allow ``python -m monitor`` as an alias of the ``socialguide`` console script."""

from monitor.cli import main

main()
