from stcheck.cli import main

raise SystemExit(main())
