from suite.run import cli

raise SystemExit(cli())
