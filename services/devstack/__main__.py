"""``python -m devstack`` (what ``make run`` calls): the whole system on this machine."""

from devstack.local_stack import main

if __name__ == "__main__":
    main()
