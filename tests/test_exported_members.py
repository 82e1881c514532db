"""The public surface is exactly what ``__all__`` lists (the httpx convention)."""

from __future__ import annotations

import toloka_ext
import toloka_ext.testing


def test_all_is_sorted_and_complete() -> None:
    for module in (toloka_ext, toloka_ext.testing):
        exported = list(module.__all__)
        assert exported == sorted(exported)
        assert len(set(exported)) == len(exported)
        for name in exported:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_no_public_name_is_missing_from_all() -> None:
    public = {
        name
        for name, value in vars(toloka_ext).items()
        if not name.startswith("_") and not isinstance(value, type(toloka_ext))
    }
    assert public - {"annotations"} <= set(toloka_ext.__all__)


def test_generated_classes_do_not_leak_into_the_public_api() -> None:
    for name in toloka_ext.__all__:
        obj = getattr(toloka_ext, name)
        assert not getattr(obj, "__module__", "").startswith("toloka_pipeline_api"), name
