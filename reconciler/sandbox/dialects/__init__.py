"""One module per emulated API; each exposes ``DIALECT`` (see :mod:`..dialect`).

The registry (:mod:`reconciler.dialects`) names the module of each dialect.
"""
