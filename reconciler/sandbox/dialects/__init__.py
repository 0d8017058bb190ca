"""One module per emulated API; each exposes ``DIALECT`` (see :mod:`..dialect`)."""
