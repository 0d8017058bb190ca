"""The sandbox: a real HTTP server emulating the documented platform APIs.

``app.create_app`` builds the ASGI app for one dialect over a SQLite file;
``server.EmbeddedSandbox`` runs it in a thread for a run or a test, and
``server.serve`` in the foreground for ``reconciler sandbox serve``.
"""
