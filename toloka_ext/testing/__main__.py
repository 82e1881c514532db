from ._server import main

raise SystemExit(main())
