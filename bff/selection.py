"""What a query asks for below a field, to fetch related records up front only when needed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    # Fragments (inline or named) contribute their fields as if written in place.
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


def selects(selections: Iterable[Selection], path: Sequence[str]) -> bool:
    """Whether `path` (GraphQL field names, not aliases) is selected below `selections`.

    Directives (@skip/@include) are not evaluated: a field they leave out still counts, which
    costs at most a fetch the answer does not use.
    """
    if not path:
        return True
    return any(
        selects(field.selections, path[1:])
        for field in _fields(selections)
        if field.name == path[0]
    )
