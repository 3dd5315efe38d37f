"""Rollback floor: lower sequences and same-sequence-other-content refused; writes atomic."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.errors import Rollback, SchemaError
from verifier.state import Accepted, RollbackState, atomic_write_text

D1 = "0x" + "aa" * 32
D2 = "0x" + "bb" * 32


def test_empty_state_accepts_anything(tmp_path: Path) -> None:
    st = RollbackState(tmp_path)
    st.check("I", "T", "c", 0, D1)
    assert not (tmp_path / "state.json").exists()


def test_floor_refuses_lower_and_equal_with_other_content(tmp_path: Path) -> None:
    st = RollbackState(tmp_path)
    st.record({("I", "T", "c"): Accepted(5, D1, 100)})
    again = RollbackState(tmp_path)  # survives a restart
    again.check("I", "T", "c", 5, D1)  # the same attestation again is fine
    again.check("I", "T", "c", 6, D2)
    with pytest.raises(Rollback, match="below"):
        again.check("I", "T", "c", 4, D2)
    with pytest.raises(Rollback, match="other content"):
        again.check("I", "T", "c", 5, D2)
    # another custodian / token / issuer has its own floor
    again.check("I", "T", "other", 1, D2)
    again.check("I2", "T", "c", 1, D2)


def test_keys_cannot_collide_through_separators(tmp_path: Path) -> None:
    st = RollbackState(tmp_path)
    st.record({("a/b", "c", "d"): Accepted(9, D1, 1)})
    st.check("a", "b/c", "d", 1, D2)  # a different triple, no floor


def test_corrupt_state_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"format": "nope"}')
    with pytest.raises(SchemaError):
        RollbackState(tmp_path)


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]
