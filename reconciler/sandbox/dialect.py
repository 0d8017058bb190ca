"""What a dialect module provides, so the app factory can serve any of them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from reconciler.sandbox.store import Collection, Store

Installer = Callable[[FastAPI, Store, str], None]
"""Adds a dialect's routes and error handlers to an app: (app, store, token)."""

Seeder = Callable[[Store, Mapping[str, Any]], None]
"""Puts objects the API itself cannot create (admin accounts, extra tokens with
other roles, pre-existing users) into a fresh store; the format of the mapping
is the dialect's own and is documented in its docs/apis page."""


@dataclass(frozen=True)
class Dialect:
    """One emulated API: its name, the collections it stores, and how to mount it."""

    name: str
    title: str
    collections: tuple[Collection, ...]
    install: Installer
    seed: Seeder | None = None
