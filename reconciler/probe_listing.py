"""The checks of one listing for ``reconciler probe``, and what a check finds.

:class:`ListingProbe` reads a listing's first page as the provider asks for it
and checks where the items and the total are, that every listed item decodes,
the paging (:mod:`reconciler.probe_paging`), and where a 404 under the listing's
path holds its message. Each check is one :class:`Finding`; one that does not
fit carries the :class:`Fix` (options) that would make it fit. Only GETs are sent.

Every value from the server that a message shows is escaped onto one line
(:func:`~reconciler.report.escape.inline`): the server is untrusted.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from reconciler.options import DialectOptions
from reconciler.options.common import Errors, Listing, maybe_at
from reconciler.probe_paging import Answer, PagingCheck, Status, first_window, get, items_in
from reconciler.providers.base import ListingUse
from reconciler.providers.http import ApiClient
from reconciler.providers.paging import SHAPE_ERRORS
from reconciler.providers.paths import url_path
from reconciler.report.escape import inline

_TOTALS = ("total", "count", "total_count", "totalCount", "total_items", "totalItems")
TOTAL_KEYS: tuple[str, ...] = _TOTALS + tuple(
    f"{outer}.{key}"
    for outer in ("meta", "pagination", "paging", "page_info")
    for key in _TOTALS[:3]
)
"""Where a total usually is."""
ENVELOPES = ("message", "error", "detail", "errors")
"""Where the client finds an error's words when ``errors.message`` is left at null."""
MESSAGE_KEYS = (*ENVELOPES, "error.message", "title", "description", "msg", "error_description")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_OWN_ID_KEYS = frozenset({"id", "uuid", "_id", "guid", "identifier"})
"""Keys that name an object's own id, before ``parent_id`` and other references to others."""
_ID_KEY = re.compile(r"(^|_)id$|Id$|^uuid$|^_id$|^key$")
"""Keys that usually hold a server id."""


def shown(value: Any) -> str:
    """A value as YAML reads it, on one line: ``null``, ``per_page``, ``"a b"``."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if (
        isinstance(value, str)
        and _PLAIN.fullmatch(value)
        and value not in ("null", "true", "false")
    ):
        return value
    return inline(json.dumps(value))


@dataclass(frozen=True)
class Fix:
    """One option to set, as a dotted path under the target's ``api.options``."""

    option: str
    value: Any

    def __str__(self) -> str:
        return f"options.{self.option}: {shown(self.value)}"


@dataclass(frozen=True)
class Finding:
    """One check of one listing (or of the connection, or of an option): what was seen."""

    listing: str
    status: Status
    message: str
    """Already safe to print: every value from the server in it is escaped."""
    fixes: tuple[Fix, ...] = ()

    def as_data(self) -> dict[str, Any]:
        fixes = [{"option": f.option, "value": f.value} for f in self.fixes]
        return {
            "listing": self.listing,
            "status": self.status,
            "message": self.message,
            "fixes": fixes,
        }


@dataclass(frozen=True)
class Settings:
    """What every listing's checks need to know of the target's options."""

    source: str
    """How the token is named in messages (``the token in $PLATFORM_TOKEN``)."""
    rows: tuple[tuple[str, Any], ...] = ()
    """Every option's dotted YAML name with its value (to name what a decoder missed)."""
    errors: tuple[str, str | None] | None = None
    """``errors.message``: its option path and value, when the dialect has it."""
    id_field: tuple[str, str] | None = None
    """``idField``: its option path and value, when the dialect has it."""
    id_type: tuple[str, str] | None = None
    """``idType`` (``string`` or ``integer``): its option path and value, when it has it."""

    @classmethod
    def of(cls, options: DialectOptions, source: str) -> Settings:
        data = options.as_data()
        rows = []
        for row in type(options).describe():
            value: Any = data
            for part in row["name"].split("."):
                value = value.get(part) if isinstance(value, dict) else None
            rows.append((str(row["name"]), value))
        found: dict[str, tuple[str, Any]] = {}
        for name, info in type(options).model_fields.items():
            value = getattr(options, name)
            alias = info.alias or name
            if isinstance(value, Errors):
                found["errors"] = (f"{alias}.message", value.message)
            elif name in ("id_field", "id_type") and isinstance(value, str):
                found[name] = (alias, value)
        return cls(
            source, tuple(rows), found.get("errors"), found.get("id_field"), found.get("id_type")
        )


class ListingProbe:
    """The checks of one listing, in order; each adds findings."""

    def __init__(self, client: ApiClient, use: ListingUse, path: str, settings: Settings) -> None:
        self.client, self.use, self.path, self.settings = client, use, path, settings
        self.listing = use.listing
        """The listing as the server answers it so far: the options, with the fixes found."""
        self.findings: list[Finding] = []
        self.items: list[Any] = []
        """The first page's items (listings under one of them take its id)."""
        self.checked: set[str] = set()
        """Options outside the listing's own section that a check read (``idType``)."""

    def add(self, status: Status, message: str, fixes: dict[str, Any] | None = None) -> None:
        found = tuple(Fix(f"{self.use.option}.{_alias(k)}", v) for k, v in (fixes or {}).items())
        self.findings.append(Finding(self.use.label, status, message, found))

    async def run(self) -> None:
        first = await self._first_page()
        if first is None:
            return
        items = self._items(first.body)
        if items is None:
            return
        self.items = items
        self._total(first.body)
        self._decode(items)
        self._ids(items)
        paging = PagingCheck(self.client, self.path, self.listing, first.body, items)
        for status, message, fixes in await paging.run():
            self.add(status, message, fixes)
        self.listing = paging.listing
        await self._errors()

    async def _first_page(self) -> Answer | None:
        """The first page as the provider asks for it; a refused page size is tried smaller."""
        size = self.listing.page_size
        answer = await get(self.client, self.path, first_window(self.listing, size))
        if answer.status in (401, 403):
            self.add(
                "misfit",
                f"refused ({answer.status}: {inline(answer.words[:200])}): may "
                f"{self.settings.source} list {inline(self.use.label)}?",
            )
            return None
        if answer.status >= 300 and self.listing.paging != "none":
            said = inline(answer.words[:200])
            refused = f"a first page of {size} was refused ({answer.status}: {said})"
            for smaller in (n for n in (100, 50, 20) if n < size):
                trial = self.listing.model_copy(update={"page_size": smaller})
                retry = await get(self.client, self.path, first_window(trial, smaller))
                if retry.status < 300:
                    self.add("misfit", f"{refused}; {smaller} is accepted", {"page_size": smaller})
                    self.listing, answer = trial, retry
                    break
        if answer.status >= 300:
            self.add("misfit", f"GET answered {answer.status}: {inline(answer.words[:200])}")
            return None
        if not answer.is_json:
            self.add("misfit", "the listing's answer is not JSON")
            return None
        return answer

    def _items(self, body: Any) -> list[Any] | None:
        key = self.listing.items
        found = items_in(body, key)
        where = "the answer itself" if key is None else f"`{inline(key)}`"
        if found is not None:
            self.add(
                "ok", f"items come under {where}" if key else "the answer is the list of items"
            )
            return found
        places = _find_items(body, self.use.label)
        if not places:
            self.add("misfit", f"no list of items at {where}, nor anywhere usual in the answer")
            return None
        place = places[0]
        self.listing = self.listing.model_copy(update={"items": place})
        shown_place = "the answer itself" if place is None else f"`{inline(place)}`"
        self.add("misfit", f"items come under {shown_place}, not {where}", {"items": place})
        return items_in(body, place)

    def _total(self, body: Any) -> None:
        key = self.listing.total
        if key is None:
            self.add("ok", "no total is read (total: null)")
            return
        value = maybe_at(body, key) if isinstance(body, dict) else None
        if _whole(value):
            self.add("ok", f"the total is at `{inline(key)}` ({value})")
            return
        found = next((k for k in TOTAL_KEYS if _whole(maybe_at(body, k))), None)
        if isinstance(body, dict) and found is not None:
            self.add(
                "misfit",
                f"no total at `{inline(key)}`; it is at `{found}` ({maybe_at(body, found)})",
                {"total": found},
            )
        else:
            self.add("misfit", f"no total at `{inline(key)}`, nor anywhere usual", {"total": None})
        self.listing = self.listing.model_copy(update={"total": found})

    def _decode(self, items: list[Any]) -> None:
        decode = self.use.decode
        if decode is None:
            self.add("unchecked", "the provider declares no decoder for its items")
            return
        if not items:
            self.add("unchecked", "the listing is empty: no item to decode")
            return
        for number, item in enumerate(items, 1):
            try:
                decode(item)
            except SHAPE_ERRORS as exc:
                why = inline(exc)
                self.add(
                    "misfit",
                    f"item {number} of {len(items)} does not decode: {why}"
                    + _covering(self.settings.rows, self.use, str(exc)),
                )
                return
        self.add("ok", f"the {len(items)} listed item(s) decode")

    def _ids(self, items: list[Any]) -> None:
        """Where the ids are (``idField``) and whether they are text or numbers (``idType``)."""
        settings, objects = self.settings, [i for i in items if isinstance(i, dict)]
        if not objects or not self.use.keyed:
            return
        if settings.id_field is None and settings.id_type is None:
            return
        self.checked |= {setting[0] for setting in (settings.id_field, settings.id_type) if setting}
        option, key = settings.id_field or ("", "id")
        if not all(key in o for o in objects):
            common = set.intersection(*(set(o) for o in objects))
            near = sorted(
                (k for k in common if isinstance(k, str) and _ID_KEY.search(k)),
                key=lambda k: (k.lower() not in _OWN_ID_KEYS, k),
            )
            missing = f"the items hold no `{inline(key)}`"
            if settings.id_field is not None and near:
                self.add_fix(
                    "misfit", f"{missing}; their ids may be `{inline(near[0])}`", option, near[0]
                )
            else:
                self.add("misfit", f"{missing} (the key of their server ids)")
            return
        values = [o[key] for o in objects]
        kind = "integer" if all(map(_whole, values)) else None
        kind = "string" if all(isinstance(v, str) for v in values) else kind
        if settings.id_type is None or kind is None or kind == settings.id_type[1]:
            self.add(
                "ok",
                f"the items hold their ids at `{inline(key)}`" + (f" ({kind}s)" if kind else ""),
            )
            return
        option, configured = settings.id_type
        said = f"the ids at `{inline(key)}` are {kind}s ({shown(values[0])}), not {configured}s"
        self.add_fix("misfit", said, option, kind)

    def add_fix(self, status: Status, message: str, option: str, value: Any) -> None:
        """A finding whose fix is an option outside this listing's section."""
        self.findings.append(Finding(self.use.label, status, message, (Fix(option, value),)))

    async def _errors(self) -> None:
        """A GET of an id that cannot exist: a 404 whose message is where the options say."""
        if self.settings.errors is None:
            return
        option, key = self.settings.errors
        answer = await get(self.client, self.path + url_path("/{}", str(uuid.uuid4())))
        seen = f"a {answer.status} for an id that cannot exist"
        if answer.status < 400 or answer.status in (401, 403) or answer.status >= 500:
            self.add("unchecked", f"{seen}: the error shape was not checked")
            return
        if not answer.is_json:
            self.add("unchecked", f"{seen} is not JSON: its text is shown as the message")
            return
        body = answer.body
        if key is not None and _words(maybe_at(body, key)):
            self.add("ok", f"{seen} holds its message at `{inline(key)}`")
            return
        envelope = next((k for k in ENVELOPES if _words(maybe_at(body, k))), None)
        if key is None and envelope is not None:
            message = f"{seen} holds its message under `{envelope}` (found at the default)"
            if envelope in ENVELOPES[:2]:
                self.add("ok", message)
            else:  # found by guessing: naming the key reads FastAPI's lists of reasons too
                self.add_fix("ok", message, option, envelope)
            return
        found = next((k for k in MESSAGE_KEYS if _words(maybe_at(body, k))), None)
        where = "the common envelopes" if key is None else f"`{inline(key)}`"
        if found is None:
            shown_keys = list(body)[:10] if isinstance(body, dict) else []
            keys = ", ".join(f"`{inline(k[:100])}`" for k in shown_keys) or "none"
            self.add(
                "unchecked", f"{seen}: no message at {where} nor anywhere usual (keys: {keys})"
            )
            return
        self.add_fix(
            "misfit", f"error messages are not at {where}: they are at `{found}`", option, found
        )


def _alias(name: str) -> str:
    info = Listing.model_fields.get(name)
    return (info.alias or name) if info is not None else name


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _words(value: Any) -> bool:
    """Whether an error message is here: text, an object with a message, or a list."""
    if isinstance(value, dict):
        return any(isinstance(value.get(k), str) and value.get(k) for k in ("message", "msg"))
    return bool(value) and isinstance(value, str | list)


def _addressable(key: Any) -> bool:
    """A key the ``items`` option can name (a dot would be read as nesting)."""
    return isinstance(key, str) and 0 < len(key) <= 200 and "." not in key


def _find_items(body: Any, label: str) -> list[str | None]:
    """Where lists are, best first: top-level or one-level-nested keys, or the bare answer
    (``None``). A key named as the listing comes first, then lists of objects."""
    if isinstance(body, list):
        return [None]
    if not isinstance(body, dict):
        return []
    found = [(k, v) for k, v in body.items() if _addressable(k) and isinstance(v, list)]
    for key, value in body.items():
        if _addressable(key) and isinstance(value, dict):
            nested = value.items()
            found += [
                (f"{key}.{k}", v) for k, v in nested if _addressable(k) and isinstance(v, list)
            ]
    words = {label.lower(), label.lower().replace(" ", "_"), label.lower().replace(" ", "-")}

    def rank(entry: tuple[str, list[Any]]) -> int:
        key, value = entry
        if key.rsplit(".", 1)[-1].lower() in words:
            return 0
        return 1 if value and all(isinstance(v, dict) for v in value) else 2

    return [key for key, _ in sorted(found, key=rank)]


def _covering(rows: tuple[tuple[str, Any], ...], use: ListingUse, error: str) -> str:
    """The options that may name the field a decoder missed (``'id'`` in its message)."""
    quoted = re.search(r"'([^']{1,100})'", error)
    if quoted is None:
        return ""
    key = quoted.group(1)
    near = [
        (name, value)
        for name, value in rows
        if value == key or (len(key) > 1 and key.lower() in name.rsplit(".", 1)[-1].lower())
    ]
    mine = [row for row in near if use.label.lower() in row[0].lower()]
    named = ", ".join(f"`options.{inline(n)}` (now {shown(v)})" for n, v in (mine or near)[:3])
    return f"; options that may name it: {named}" if named else ""


__all__ = ["ENVELOPES", "Finding", "Fix", "ListingProbe", "Settings", "Status", "shown"]
