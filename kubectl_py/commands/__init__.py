"""One module per kubectl command family; each exposes `register(subparsers)`."""
