"""Small helpers the page scripts share: drill-down pickers and answer lookups."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.prometheus import Sample

NONE = "(none)"


def query_choice(
    label: str,
    param: str,
    options: list[str],
    allow_none: bool = True,
    refuse_unknown: str | None = None,
    describe: Callable[[str], str] = str,
) -> str | None:
    """A selectbox that follows, and sets, a query parameter: drill-down links are shareable.

    With `refuse_unknown` (where the options come from), a value in the address that
    is not an option is refused with a message and nothing is chosen, instead of
    silently showing the first option under a name the user did not ask for.
    """
    choices = [NONE, *options] if allow_none else list(options)
    if not choices:
        return None
    key = f"drill_{param}"
    wanted = st.query_params.get(param)
    index: int | None = choices.index(wanted) if wanted in choices else 0
    picked = st.session_state.get(key) is not None  # chosen since: the address follows below
    if refuse_unknown and wanted is not None and wanted not in options and not picked:
        st.error(
            f"Unknown {label.lower()} {wanted!r} in the address (?{param}={wanted}): "
            f"it is not in {refuse_unknown}. Choose one below."
        )
        index = None
    choice = st.selectbox(
        label, choices, index=index, key=key, format_func=describe,
        placeholder=f"Choose a {label.lower()}",
    )  # fmt: skip
    if choice is None:
        return None
    if choice == NONE:
        st.query_params.pop(param, None)
        return None
    if st.query_params.get(param) != choice:
        st.query_params[param] = choice
    return choice


def by_label(samples: list[Sample], label: str) -> dict[str, float]:
    """{label value: sample value} of an answer aggregated by `label`."""
    return {s.labels.get(label, ""): s.value for s in samples}


def by_link(samples: list[Sample]) -> dict[str, float]:
    return by_label(samples, "link")
