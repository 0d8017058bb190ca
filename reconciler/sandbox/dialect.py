"""What a dialect module provides, so the app factory can serve any of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

from reconciler.sandbox.store import Collection, Store

Installer = Callable[[FastAPI, Store, str], None]
"""Adds a dialect's routes and error handlers to an app: (app, store, token)."""


@dataclass(frozen=True)
class Dialect:
    """One emulated API: its name, the collections it stores, and how to mount it."""

    name: str
    title: str
    collections: tuple[Collection, ...]
    install: Installer
