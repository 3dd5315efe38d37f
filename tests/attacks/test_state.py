"""State never goes back: runs sharing a state folder serialise, and the floor moves last.

DESIGN §1 ("State never goes back"): the rollback floor is read, compared and written under an
exclusive lock on the state folder, and it advances only after the result has been written
where the user asked. These attacks race two runs on one folder (made deterministic by
starting the second run while the first holds the lock, through the orchestrator's
``deliver`` hook), make the result unwritable or the feed read fail after the checks, and point
``--output`` at things that are not regular files.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import stat
import subprocess as sp
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.attacks import crafting
from tests.attacks.crafting import (
    Doc,
    Run,
    Workdir,
    assert_refused,
    edit_message,
    porv,
    resign,
    verify_cli,
)
from verifier.app.demo import ChainDeployment
from verifier.checks.bundle import Outcome
from verifier.errors import OutputRefusedError
from verifier.local.state import STATE_FILE, folder_lock

WAITING = "waiting for another run to release the state folder"


def _sequence(seq: int) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        for entry in doc["custodians"]:
            edit_message(entry, sequence=seq)
        resign(doc)

    return mutate


def _sequences(work: Workdir) -> set[int]:
    state = json.loads(work.state_file.read_text(encoding="utf-8"))
    return {v["sequence"] for v in state["custodians"].values()}


class _Background:
    """``porv verify`` in its own process, its stderr read line by line as it comes."""

    def __init__(self, bundle: Path, work: Workdir) -> None:
        argv = [str(bundle), "--policy", str(work.policy), "--format", "json"]
        argv += ["--state", str(work.state)]
        self.proc = sp.Popen(
            [sys.executable, "-m", "verifier", "verify", *argv],
            stdout=sp.PIPE,
            stderr=sp.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, needle: str, timeout: float) -> bool:
        """Whether the process printed ``needle`` on stderr within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return False
            if line is None:
                return False
            if needle in line:
                return True
        return False

    def finish(self) -> Run:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        with self.proc.stdout:
            stdout = self.proc.stdout.read()
        code = self.proc.wait(timeout=120)
        self.reader.join(timeout=10)
        self.proc.stderr.close()
        return Run(code, stdout, "".join(self.stderr))


def _verify_holding_the_lock(
    bundle: Path, work: Workdir, other: Path
) -> tuple[Outcome, _Background]:
    """Verify ``bundle`` in this process; while it holds the state lock (its result delivered,
    its floor not yet raised) start ``porv verify other`` and wait until that run waits."""
    from verifier.app.verify import run_verify

    started: list[_Background] = []

    def deliver(outcome: Outcome) -> None:
        assert outcome.status == "verified", outcome.result["checks"]
        background = _Background(other, work)
        started.append(background)
        try:
            assert background.wait_for(WAITING, timeout=90), "".join(background.stderr)
            assert background.proc.poll() is None  # it waits for this run's lock
        except BaseException:
            background.proc.kill()
            background.finish()
            raise

    outcome = run_verify(
        bundle, work.policy, now=int(time.time()), state_dir=work.state, deliver=deliver
    )
    return outcome, started[0]


# --- (a) two verifies sharing one --state folder ---------------------------------------------


def test_race_older_run_waiting_for_the_lock_is_refused_by_the_newer_floor(
    work: Workdir,
) -> None:
    newer = work.craft(_sequence(2), "bundle-seq2.json")
    older = work.write(work.bundle_doc(), "bundle-seq1.json")  # the demo's, sequence 1

    outcome, background = _verify_holding_the_lock(newer, work, older)

    assert outcome.exit_code == 0
    assert _sequences(work) == {2}
    floor = work.snapshot()
    replay = background.finish()
    assert_refused(
        replay,
        work,
        floor,
        code=1,
        kinds={"rollback"},
        words=["sequence 1 is below the last accepted sequence 2"],
    )
    assert WAITING in replay.stderr


def test_race_newer_run_waits_and_the_floor_only_rises(work: Workdir) -> None:
    older = work.write(work.bundle_doc(), "bundle-seq1.json")
    newer = work.craft(_sequence(2), "bundle-seq2.json")

    outcome, background = _verify_holding_the_lock(older, work, newer)

    assert outcome.exit_code == 0
    later = background.finish()
    assert later.code == 0, later.stderr
    assert later.json["status"] == "verified"
    assert _sequences(work) == {2}  # the run that recorded last did not lower it
    floor = work.snapshot()

    replay = verify_cli(older, work)

    assert_refused(
        replay,
        work,
        floor,
        code=1,
        kinds={"rollback"},
        words=["sequence 1 is below the last accepted sequence 2"],
    )


def test_state_lock_not_released_in_time_is_exit_3_and_changes_nothing(
    work: Workdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    seq1 = work.write(work.bundle_doc(), "bundle-seq1.json")
    assert verify_cli(seq1, work).code == 0
    before = work.snapshot()
    seq2 = work.craft(_sequence(2), "bundle-seq2.json")
    monkeypatch.setattr(crafting, "IN_PROCESS", True)
    monkeypatch.setattr("verifier.local.state.STATE_LOCK_WAIT_S", 0.3)

    with folder_lock(work.state):  # another run holds the folder
        run = verify_cli(seq2, work)

    assert_refused(run, work, before, code=3, kinds={"state_locked"}, words=["locked by another"])
    assert str(work.state) in run.json["error"]["message"]
    assert sorted(p.name for p in work.state.iterdir()) == [STATE_FILE]  # no lock file left


def test_state_lock_wait_ends_at_the_runs_deadline(work: Workdir) -> None:
    """--deadline bounds the whole run: waiting for another run's lock included."""
    seq1 = work.write(work.bundle_doc(), "bundle-seq1.json")
    assert verify_cli(seq1, work).code == 0
    before = work.snapshot()
    seq2 = work.craft(_sequence(2), "bundle-seq2.json")

    with folder_lock(work.state):  # another run holds the folder past this run's deadline
        started = time.monotonic()
        run = verify_cli(seq2, work, "--deadline", "2")
        took = time.monotonic() - started

    assert took < 20, f"waited {took:.1f} s for the lock with --deadline 2"
    assert_refused(run, work, before, code=3, kinds={"state_locked"})


# --- (b) the result cannot be written ---------------------------------------------------------


def _accepted_then_newer(work: Workdir) -> tuple[Path, bytes | None]:
    """Accept sequence 1; return a sequence-2 bundle (it would raise the floor) and the state."""
    seq1 = work.write(work.bundle_doc(), "bundle-seq1.json")
    assert verify_cli(seq1, work).code == 0
    return work.craft(_sequence(2), "bundle-seq2.json"), work.snapshot()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("where", ["missing-folder", "under-a-file"])
def test_output_in_unusable_folder_refused_before_any_work(work: Workdir, where: str) -> None:
    seq2, before = _accepted_then_newer(work)
    listing = _files(work.path)
    if where == "missing-folder":
        output = work.path / "missing" / "result.json"
        why = "folder that does not exist"
    else:
        output = work.path / "bundle-seq1.json" / "result.json"
        why = "not a folder"

    run = verify_cli(seq2, work, "--output", str(output))

    assert_refused(run, work, before, code=2, kinds={"output_refused"}, words=[why])
    assert run.json["error"]["hint"].startswith("omit --output to print to stdout")
    assert "verified" not in run.stdout
    assert _files(work.path) == listing  # no folder made, nothing written


def test_output_failing_after_the_checks_changes_no_state(
    work: Workdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    seq2, before = _accepted_then_newer(work)
    output = work.path / "result.json"
    monkeypatch.setattr(crafting, "IN_PROCESS", True)
    calls: list[str] = []

    def disk_full(path: object, text: str, **_: object) -> None:
        calls.append(str(path))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    with monkeypatch.context() as patch:
        patch.setattr("verifier.cli.common.atomic_write_text", disk_full)
        run = verify_cli(seq2, work, "--output", str(output))

    assert calls == [str(output)]  # the checks ran and the write was attempted
    assert_refused(run, work, before, code=3, kinds={"output_not_written"}, words=["no space left"])
    assert not output.exists()
    # the same run with a writable result raises the floor: the refusal above was the write's
    ok = verify_cli(seq2, work, "--output", str(output))
    assert ok.code == 0, ok.stderr
    assert json.loads(output.read_text(encoding="utf-8"))["status"] == "verified"
    assert _sequences(work) == {2}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_output_in_read_only_folder_refused(work: Workdir) -> None:
    seq2, before = _accepted_then_newer(work)
    folder = work.path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        run = verify_cli(seq2, work, "--output", str(folder / "result.json"))
    finally:
        folder.chmod(0o755)
    assert_refused(run, work, before, code=2, kinds={"output_refused"}, words=["cannot write"])
    assert _files(folder) == []


# --- (c) the feed read fails after the checks -------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "codes"),
    [(KeyboardInterrupt, {3, 130}), (RuntimeError("feed answer broke the reader"), {3})],
    ids=["interrupted", "internal-error"],
)
def test_feed_read_failing_after_the_checks_changes_no_state(
    work: Workdir,
    deployments: list[ChainDeployment],
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException | type[BaseException],
    codes: set[int],
) -> None:
    seq2, before = _accepted_then_newer(work)
    feed = deployments[0]
    with work.policy.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[feed]\nchain_id = {feed.chain_id}\naddress = "{feed.token}"\n')
    output = work.path / "result.json"
    monkeypatch.setattr(crafting, "IN_PROCESS", True)
    reads: list[int] = []

    def failing_feed(*_: object, **__: object) -> None:
        reads.append(1)
        raise failure

    monkeypatch.setattr("verifier.chain.feed.read_policy_feed", failing_feed)

    for extra in ((), ("--output", str(output))):
        run = verify_cli(seq2, work, *extra)
        assert run.code in codes, run.stderr  # an interrupt's own code is not this test's
        assert "Traceback" not in run.stderr
        assert '"verified"' not in run.stdout
        assert work.snapshot() == before, "the rollback state changed"
    assert len(reads) == 2  # every check had passed; the feed read came after them
    assert not output.exists()
    assert _files(work.state) == [STATE_FILE]


# --- (d) --output that is not a regular file --------------------------------------------------


def _refused_untouched(run: Run, work: Workdir, path: Path, why: str) -> None:
    assert_refused(run, work, None, code=2, kinds={"output_refused"}, words=[why, str(path)])
    assert "verified" not in run.stdout
    assert not work.state.exists()  # refused before any work


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_output_fifo_refused_and_left_a_fifo(work: Workdir) -> None:
    bundle = work.write(work.bundle_doc())
    fifo = work.path / "result.json"
    os.mkfifo(fifo)

    run = verify_cli(bundle, work, "--output", str(fifo))

    _refused_untouched(run, work, fifo, "is a FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_output_symlink_refused_and_target_untouched(work: Workdir, dangling: bool) -> None:
    bundle = work.write(work.bundle_doc())
    target = work.path / "victim.txt"
    if not dangling:
        target.write_text("keep me\n", encoding="utf-8")
    link = work.path / "result.json"
    link.symlink_to(target)

    run = verify_cli(bundle, work, "--output", str(link))

    _refused_untouched(run, work, link, "is a symbolic link")
    assert link.is_symlink() and os.readlink(link) == str(target)
    if dangling:
        assert not target.exists()
    else:
        assert target.read_text(encoding="utf-8") == "keep me\n"


def test_output_folder_refused(work: Workdir) -> None:
    bundle = work.write(work.bundle_doc())
    folder = work.path / "out"
    folder.mkdir()

    run = verify_cli(bundle, work, "--output", str(folder))

    _refused_untouched(run, work, folder, "is a folder")
    assert _files(folder) == []


def test_output_device_refused_without_writing_to_it() -> None:
    from verifier.cli.common import check_output_path

    null = "/dev/null"
    if not os.path.exists(null) or not stat.S_ISCHR(os.stat(null).st_mode):
        pytest.skip("no /dev/null character device here")
    with pytest.raises(OutputRefusedError, match="is a character device") as caught:
        check_output_path(null)
    assert caught.value.exit_code == 2
    assert stat.S_ISCHR(os.lstat(null).st_mode)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize(
    "verb", [["schema", "bundle"], ["tree", "build", "never-read.csv"]], ids=lambda v: v[0]
)
def test_every_verb_with_output_refuses_a_fifo(tmp_path: Path, verb: list[str]) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)

    run = porv([*verb, "--output", str(fifo)])

    assert run.code == 2, run.stderr
    assert "is a FIFO" in run.stderr and "omit --output" in run.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
