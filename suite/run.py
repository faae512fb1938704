"""`python -m suite.run TASK|list|all`: train a study's stages and write its writeup (see `suite.cli`)."""

from suite.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
