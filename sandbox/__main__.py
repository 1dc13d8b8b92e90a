"""`python -m sandbox`: both simulators on loopback ports (see ``sandbox.simulators``)."""

from sandbox.simulators import main

if __name__ == "__main__":
    main()
