"""A page's items are decoded with one ``try`` for the page and its ids checked without
a new string per text id: the same items, refusals and repeats as before."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import MalformedResponse
from reconciler.providers.paging import InconsistentRead, _Rows, _SeenItems


def _refuse_odd(item: Any) -> Any:
    if item["id"] % 2:
        raise KeyError("name")
    return {"id": item["id"], "seen": True}


def test_a_page_decodes_in_order_and_a_refusal_names_the_call() -> None:
    rows = _Rows(_refuse_odd, "/things", "things")
    assert rows.of([{"id": 0}, {"id": 2}]) == [{"id": 0, "seen": True}, {"id": 2, "seen": True}]
    with pytest.raises(MalformedResponse) as raised:
        rows.of([{"id": 0}, {"id": 1}])
    message = str(raised.value)
    assert "GET /things" in message and "KeyError: 'name'" in message
    assert isinstance(raised.value.__cause__, KeyError)


def test_text_and_number_ids_are_one_id_as_before() -> None:
    seen = _SeenItems("/things")
    seen.add([{"id": "a"}, {"id": 1}, {"name": "no id"}])
    assert seen.count == 3 and seen.ids == {"a", "1"}
    with pytest.raises(InconsistentRead, match="item 1 twice"):
        seen.add([{"id": "1"}])
    with pytest.raises(InconsistentRead, match="item a twice"):
        seen.add([{"id": "a"}])
