"""``python -m tune_gamma``: the ``tune-gamma`` command."""

from tune_gamma.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
