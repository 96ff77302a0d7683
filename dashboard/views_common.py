"""Small helpers the page scripts share: drill-down pickers and answer lookups."""

from __future__ import annotations

import streamlit as st

from dashboard.prometheus import Sample

NONE = "(none)"


def query_choice(label: str, param: str, options: list[str], allow_none: bool = True) -> str | None:
    """A selectbox that follows, and sets, a query parameter: drill-down links are shareable."""
    choices = [NONE, *options] if allow_none else list(options)
    if not choices:
        return None
    wanted = st.query_params.get(param)
    index = choices.index(wanted) if wanted in choices else 0
    choice = st.selectbox(label, choices, index=index, key=f"drill_{param}")
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
