"""A status line while the live state is read: at a terminal, the read is seen to move.

Reading a platform of 10,000 to 50,000 tenants takes from 5 s to nearly a
minute, and without a sign of life it looks hung. On a terminal, stderr shows
one line, redrawn in place and erased when the read ends::

    ⠹ Reading live state… 12,000 objects

Anywhere else (a CI log, a pipe, a file) nothing is written: a log keeps no
carriage returns and no line per page. The line is plain text (no escape
codes) in the stream's own encoding, ASCII where it cannot take more.

Objects are counted as the listings of the session's client yield them
(:func:`counting`): the walkers of :class:`~reconciler.providers.paging.Paging`
are wrapped on that one client for the read, so no provider has to report.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing, contextmanager, nullcontext
from typing import Any, TextIO

ReadProgress = Callable[[int], None]
"""Told the number of objects read so far, each time one more is listed."""

REDRAW_EVERY = 0.1
"""Seconds between two redraws of the line: often enough to see it move, cheap at 50k."""

_WALKERS = ("paginate_offset", "paginate_pages", "_paginate_onward")
"""The methods of ``Paging`` that yield a listing's items; ``paginate`` hands each
listing to one of them, so every item listed passes through exactly one."""


class ReadingStatus:
    """A :data:`ReadProgress` that draws the status line; :meth:`close` erases it.

    ``live``: draw at all (default: when ``stream`` is a terminal). ``clock`` is
    injectable so a test decides when time has passed, without sleeping.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        every: float = REDRAW_EVERY,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = _is_terminal(self.stream) if live is None else live
        self.clock = clock
        self.every = every
        self._spinner, self._ellipsis = _glyphs(self.stream)
        self._frame = 0
        self._width = 0
        self._last: float | None = None

    def __call__(self, objects: int) -> None:
        if not self.live:
            return
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            return
        self._last = now
        spin = self._spinner[self._frame % len(self._spinner)]
        self._frame += 1
        count = f" {objects:,} object{'' if objects == 1 else 's'}" if objects else ""
        self._draw(f"{spin} Reading live state{self._ellipsis}{count}")

    def close(self) -> None:
        """Erase the line, leaving the cursor where the line began (nothing if none was drawn)."""
        if self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0

    def _draw(self, line: str) -> None:
        pad = " " * max(0, self._width - len(line))  # cover what a longer line left
        self._write("\r" + line + pad)
        self._width = len(line)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken terminal: the read goes on
            self.live = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _glyphs(stream: TextIO) -> tuple[str, str]:
    """Spinner frames and ellipsis the stream can encode: braille and ``…``, else ASCII."""
    fancy = ("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏", "…")
    try:
        "".join(fancy).encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "|/-\\", "..."
    return fancy


@contextmanager
def counting(client: Any, progress: ReadProgress) -> Iterator[None]:
    """While the block runs, ``progress`` is told the running count of items ``client`` lists.

    ``client`` is the session's :class:`~reconciler.providers.http.ApiClient`; its
    listing walkers are wrapped on this instance only, and put back on exit.
    """
    seen = 0

    def counted(
        walk: Callable[..., AsyncGenerator[Any, None]],
    ) -> Callable[..., AsyncGenerator[Any, None]]:
        def walker(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
            async def items() -> AsyncGenerator[Any, None]:
                nonlocal seen
                async with aclosing(walk(*args, **kwargs)) as listed:
                    async for item in listed:
                        seen += 1
                        progress(seen)
                        yield item

            return items()

        return walker

    own = vars(client)
    kept = {name: own[name] for name in _WALKERS if name in own}
    for name in _WALKERS:
        setattr(client, name, counted(getattr(client, name)))
    try:
        yield
    finally:
        for name in _WALKERS:
            if name in kept:
                setattr(client, name, kept[name])
            else:
                delattr(client, name)


@contextmanager
def reading(session: object, progress: ReadProgress | None = None) -> Iterator[None]:
    """Count what the ``client`` of ``session`` lists in the block, for ``progress``.

    By default (``None``) that is the status line on stderr, erased at the end,
    when stderr is a terminal that nothing else is drawing on: not while another
    live display (the apply's bar, during its verifying re-read) holds it, nor
    with ``-v``, whose log lines would break into the line and show the read anyway.
    Nothing of ``session`` is touched when there is nobody to tell.
    """
    status = None
    if progress is None:
        status = ReadingStatus(live=_free_terminal(sys.stderr))
        if not status.live:
            yield  # nobody to tell: the read runs unwrapped
            return
        progress = status
    progress(0)  # the line shows at once, before the first page comes back
    client = getattr(session, "client", None)
    try:
        with counting(client, progress) if client is not None else nullcontext():
            yield
    finally:
        if status is not None:
            status.close()


def _free_terminal(stream: TextIO) -> bool:
    """A terminal, not behind a live display's proxy, with no log lines below warnings."""
    proxy = sys.modules.get("rich.file_proxy")  # rich is imported only when a display runs
    behind_display = proxy is not None and isinstance(stream, proxy.FileProxy)
    if behind_display or logging.getLogger().isEnabledFor(logging.INFO):
        return False
    return _is_terminal(stream)
