from stcheck.cli import entry

entry()
