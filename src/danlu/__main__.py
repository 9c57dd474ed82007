"""``python -m danlu`` (also how torchrun launches it: ``torchrun ... -m danlu ...``)."""

from danlu.cli import main

raise SystemExit(main())
