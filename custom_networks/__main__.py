"""``python -m custom_networks <command> …``: the ``custom-networks`` command (:mod:`custom_networks.cli`)."""

from custom_networks.cli import main

if __name__ == "__main__":
    main()
