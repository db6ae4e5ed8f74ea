"""`python -m bench`: run every benchmark scenario and write bench/results/<time>.json."""

from bench.run import main

raise SystemExit(main())
