"""Rollback floor: lower sequences and same-sequence-other-content refused; writes atomic;
recording never lowers it; runs sharing a folder serialise on its lock, boundedly."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from verifier.errors import InputError, RollbackError, SchemaError, StateLockedError
from verifier.local.state import (
    STATE_FILE,
    STATE_LOCK_FILE,
    Accepted,
    Floor,
    RollbackState,
    atomic_write_text,
    folder_lock,
    locked_state,
)

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
    with pytest.raises(RollbackError, match="below"):
        again.check("I", "T", "c", 4, D2)
    with pytest.raises(RollbackError, match="other content"):
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


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sequence", 3.9),  # was read as 3
        ("sequence", "3"),
        ("sequence", "\u0663"),  # ARABIC-INDIC DIGIT THREE: int() accepts it
        ("sequence", True),
        ("sequence", -1),
        ("sequence", 2**64),
        ("sequence", None),
        ("as_of", 1.5),
        ("as_of", "\uff11"),  # FULLWIDTH DIGIT ONE
    ],
)
def test_state_numbers_are_strict_json_integers(tmp_path: Path, field: str, value: object) -> None:
    RollbackState(tmp_path).record({("I", "T", "c"): Accepted(5, D1, 100)})
    path = tmp_path / STATE_FILE
    doc = json.loads(path.read_text())
    (entry,) = doc["custodians"].values()
    entry[field] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(SchemaError) as info:
        RollbackState(tmp_path)
    err = info.value
    assert err.exit_code == 2
    text = err.diagnostics()
    assert str(path) in text and f".{field}" in text, text
    # the largest uint64 is a valid sequence
    entry[field] = 2**64 - 1
    path.write_text(json.dumps(doc))
    RollbackState(tmp_path)


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]


# --- never lower: recording takes the max per custodian ---------------------------------------


def test_floor_is_read_only() -> None:
    floor = Floor({"k": Accepted(1, D1, 1)})
    with pytest.raises(TypeError):
        floor.entries["k"] = Accepted(0, D2, 0)  # type: ignore[index]


def test_raised_keeps_the_higher_sequence_and_ignores_lower() -> None:
    floor = Floor().raised({("I", "T", "c"): Accepted(5, D1, 100)})
    assert floor.raised({("I", "T", "c"): Accepted(3, D2, 50)}) == floor
    assert floor.raised({("I", "T", "c"): Accepted(5, D1, 100)}) == floor
    higher = floor.raised({("I", "T", "c"): Accepted(6, D2, 200)})
    assert higher.get("I", "T", "c") == Accepted(6, D2, 200)
    assert floor.get("I", "T", "c") == Accepted(5, D1, 100)  # pure: the old floor is unchanged


def test_raised_refuses_equal_sequence_with_other_content_for_every_custodian() -> None:
    floor = Floor().raised({("I", "T", "c"): Accepted(5, D1, 100)})
    with pytest.raises(RollbackError, match="other content"):
        floor.raised({("I", "T", "new"): Accepted(1, D1, 1), ("I", "T", "c"): Accepted(5, D2, 100)})


def test_record_from_a_stale_snapshot_never_lowers_the_file(tmp_path: Path) -> None:
    first, second = RollbackState(tmp_path), RollbackState(tmp_path)  # both read "empty"
    first.record({("I", "T", "c"): Accepted(5, D1, 100)})
    second.record({("I", "T", "c"): Accepted(3, D2, 50), ("I", "T", "d"): Accepted(1, D2, 50)})
    on_disk = RollbackState(tmp_path)
    assert on_disk.get("I", "T", "c") == Accepted(5, D1, 100)
    assert on_disk.get("I", "T", "d") == Accepted(1, D2, 50)
    assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILE]


def test_record_equivocation_writes_nothing(tmp_path: Path) -> None:
    RollbackState(tmp_path).record({("I", "T", "c"): Accepted(5, D1, 100)})
    before = (tmp_path / STATE_FILE).read_bytes()
    with pytest.raises(RollbackError):
        RollbackState(tmp_path).record(
            {("I", "T", "d"): Accepted(9, D1, 1), ("I", "T", "c"): Accepted(5, D2, 100)}
        )
    assert (tmp_path / STATE_FILE).read_bytes() == before


# --- the folder lock --------------------------------------------------------------------------


def test_lock_excludes_a_second_holder_and_the_wait_is_bounded(tmp_path: Path) -> None:
    waits: list[int] = []
    with locked_state(tmp_path) as held:
        assert (tmp_path / STATE_LOCK_FILE).exists()
        t0 = time.monotonic()
        with (
            pytest.raises(StateLockedError) as caught,
            locked_state(tmp_path, wait=0.3, on_wait=lambda: waits.append(1)),
        ):
            pass  # pragma: no cover - never reached
        assert 0.3 <= time.monotonic() - t0 < 5
        held.record({("I", "T", "c"): Accepted(1, D1, 1)})
    assert waits == [1]
    err = caught.value
    assert err.exit_code == 3 and err.kind == "state_locked"
    assert str(tmp_path) in err.message and "0.3 s" in err.message
    # released: the next run gets it at once, and no lock file is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILE]
    with locked_state(tmp_path, wait=0) as again:
        assert again.get("I", "T", "c") == Accepted(1, D1, 1)


def test_a_waiting_run_reads_the_floor_after_the_holder_released(tmp_path: Path) -> None:
    """The floor is read only once the lock is had: what the holder recorded is seen."""
    holding = threading.Event()
    seen: list[Accepted | None] = []

    def holder() -> None:
        with locked_state(tmp_path) as state:
            holding.set()
            time.sleep(0.3)
            state.record({("I", "T", "c"): Accepted(7, D1, 1)})

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(5)
    with locked_state(tmp_path, wait=10) as state:
        seen.append(state.get("I", "T", "c"))
        with pytest.raises(RollbackError, match="below"):
            state.check("I", "T", "c", 6, D2)
    thread.join()
    assert seen == [Accepted(7, D1, 1)]


def test_lock_is_released_when_the_run_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), locked_state(tmp_path):
        raise RuntimeError("the result could not be written")
    assert list(tmp_path.iterdir()) == []
    with locked_state(tmp_path, wait=0):
        pass


def test_lock_of_a_state_path_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "state"
    not_a_folder.write_text("not a folder")
    with pytest.raises(InputError, match="state folder") as caught, locked_state(not_a_folder):
        pass  # pragma: no cover - never reached
    assert caught.value.exit_code == 2


def test_record_takes_the_lock_when_not_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("verifier.local.state.STATE_LOCK_WAIT_S", 0.1)
    state = RollbackState(tmp_path)
    with folder_lock(tmp_path), pytest.raises(StateLockedError):
        state.record({("I", "T", "c"): Accepted(1, D1, 1)})
    assert not (tmp_path / STATE_FILE).exists()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_lock_file_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("untouched")
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / STATE_LOCK_FILE).symlink_to(target)
    with pytest.raises(InputError, match="lock"), locked_state(folder, wait=0):
        pass  # pragma: no cover - never reached
    assert target.read_text() == "untouched"
