from runpages.sitegen.cli import main

raise SystemExit(main())
