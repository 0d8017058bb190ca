"""One module per emulated API; each exposes ``DIALECT`` (see :mod:`..dialect`).

The registry (:mod:`reconciler.dialects`) names the module of each dialect.

These modules speak their API document's language: routes, path parameters
(``plan_id``), body models (``PlanCreate``) and handler names (which FastAPI
publishes as operation ids in ``/openapi.json``) are the document's. So "plan"
here is always the API's subscription plan: the sandbox has no change plans (it
may not import the engine).
"""
