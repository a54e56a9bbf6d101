"""``python -m hftmm`` runs the CLI."""

from hftmm.cli.app import main

main()
