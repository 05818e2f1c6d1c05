from govsig.cli import main

raise SystemExit(main())
