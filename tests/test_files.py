"""Output files: atomic create-if-absent, no temporary files left behind, outputs checked early."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from lookalike import _files
from lookalike._files import atomic_output, check_writable
from lookalike.errors import OutputExistsError, OutputPathError


def partials(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".partial"))


WRITE_AND_WAIT = """
    import time
    from lookalike._files import atomic_output, install_signal_cleanup
    if "--signals" in sys.argv:
        install_signal_cleanup()
    with atomic_output(sys.argv[1]) as tmp:
        tmp.write_text("half written")
        print("ready", flush=True)
        time.sleep(120)
"""


LIGHT_IMPORT = """
    import sys, types
    package = types.ModuleType("lookalike")
    package.__path__ = [sys.argv.pop(1)]
    sys.modules["lookalike"] = package
"""


def start_writer(target: Path, *flags: str) -> subprocess.Popen:
    """A process inside ``atomic_output(target)``, started once it has written half its file."""
    code = textwrap.dedent(LIGHT_IMPORT) + textwrap.dedent(WRITE_AND_WAIT)
    package = str(Path(_files.__file__).parent)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, package, str(target), *flags], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


# ----------------------------------------------------------------------------- create-if-absent


def test_writer_that_appears_during_the_write_is_not_overwritten(tmp_path, monkeypatch):
    """Another writer creates the target after this one checked it: this one must fail."""
    target = tmp_path / "out.csv"
    chmod = os.chmod

    def chmod_then_rival(path, mode, **kwargs):
        chmod(path, mode, **kwargs)
        if not target.exists():
            target.write_text("rival\n")

    monkeypatch.setattr(os, "chmod", chmod_then_rival)
    with pytest.raises(OutputExistsError, match=r"out\.csv was created by another process while this one "
                       r"was writing it; nothing was overwritten"):
        with atomic_output(target) as tmp:
            tmp.write_text("mine\n")
    assert target.read_text() == "rival\n"
    assert partials(tmp_path, "out.csv") == []


def race(target: Path, n_writers: int) -> dict[int, str]:
    """``n_writers`` threads write ``target`` at once, without overwrite: who won, who was refused."""
    barrier = threading.Barrier(n_writers)
    outcome: dict[int, str] = {}

    def write(i: int) -> None:
        try:
            with atomic_output(target) as tmp:
                tmp.write_text(f"writer {i}\n" * 1000)
                barrier.wait()  # everybody has checked the target and written: now publish
            outcome[i] = "won"
        except OutputExistsError:
            outcome[i] = "refused"

    threads = [threading.Thread(target=write, args=(i,)) for i in range(n_writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


@pytest.mark.parametrize("links", [True, False], ids=["hard links", "no hard links"])
def test_racing_writers_exactly_one_wins(tmp_path, monkeypatch, links):
    if not links:
        def no_link(src, dst, **kwargs):
            raise OSError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_link)
    for r in range(25):
        target = tmp_path / f"out{r}.csv"
        outcome = race(target, 6)
        winners = [i for i, o in outcome.items() if o == "won"]
        assert len(winners) == 1 and len(outcome) == 6, f"round {r}: {outcome}"
        assert target.read_text() == f"writer {winners[0]}\n" * 1000
        assert partials(tmp_path, target.name) == []


def test_overwrite_replaces(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with atomic_output(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    with pytest.raises(OutputExistsError, match=r"out\.csv already exists; .*overwrite=True"):
        with atomic_output(target) as tmp:
            tmp.write_text("newer")
    assert target.read_text() == "new" and partials(tmp_path, "out.csv") == []


def test_published_file_has_the_usual_permissions(tmp_path):
    with atomic_output(tmp_path / "out.csv") as tmp:
        tmp.write_text("x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o666 & ~umask


# ----------------------------------------------------------------------------- temporary files


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_partial_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "out.csv"
    proc = start_writer(target)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(partials(tmp_path, "out.csv")) == 1  # kill -9 cannot be cleaned up at once
    with atomic_output(target) as tmp:
        tmp.write_text("fresh")
    assert partials(tmp_path, "out.csv") == [] and target.read_text() == "fresh"


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_partial_of_a_live_writer_and_of_other_targets_are_kept(tmp_path):
    target = tmp_path / "out.csv"
    live = start_writer(target)
    dead = start_writer(tmp_path / "other.csv")
    dead.send_signal(signal.SIGKILL)
    dead.wait()
    try:
        before = partials(tmp_path, "out.csv")
        with atomic_output(target) as tmp:
            tmp.write_text("fresh")
        assert partials(tmp_path, "out.csv") == before and len(before) == 1
        assert len(partials(tmp_path, "other.csv")) == 1
    finally:
        live.kill()
        live.wait()


def test_old_partial_without_a_process_is_removed_after_a_day(tmp_path):
    target = tmp_path / "out.csv"
    old, new = tmp_path / ".out.csv.abcd1234.partial", tmp_path / ".out.csv.efgh5678.partial"
    old.write_text("x")
    new.write_text("x")
    day_ago = time.time() - _files.STALE_AFTER_S - 60
    os.utime(old, (day_ago, day_ago))
    with atomic_output(target) as tmp:
        tmp.write_text("fresh")
    assert partials(tmp_path, "out.csv") == [new.name]


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_removes_the_partial_and_ends_the_process(tmp_path):
    proc = start_writer(tmp_path / "out.csv", "--signals")
    assert len(partials(tmp_path, "out.csv")) == 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == -signal.SIGTERM
    assert partials(tmp_path, "out.csv") == [] and not (tmp_path / "out.csv").exists()


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_output(tmp_path / "out.csv") as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == [] and not _files._LIVE


# ----------------------------------------------------------------------------- output folders


@pytest.mark.parametrize("under", ["out.csv", "sub/out.csv"])
def test_output_under_a_file_refused_before_any_work(tmp_path, under):
    (tmp_path / "somefile.txt").write_text("x")
    path = tmp_path / "somefile.txt" / under
    with pytest.raises(OutputPathError, match=r"^cannot write .*somefile\.txt/.*out\.csv: .*somefile\.txt "
                       r"is a file, not a folder; choose an output path inside a folder"):
        check_writable(path)
    with pytest.raises(OutputPathError):
        with atomic_output(path):
            pytest.fail("atomic_output must refuse before yielding")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_output_in_a_folder_that_cannot_be_written(tmp_path):
    with pytest.raises(OutputPathError, match=r"^cannot write /proc/self/x/out\.csv: folder /proc/self "
                       r"cannot be written \(.*\); choose an output path in a folder you can write to"):
        check_writable("/proc/self/x/out.csv")


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root writes read-only folders")
def test_output_in_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputPathError, match=r"folder .*ro cannot be written"):
            check_writable(folder / "out.csv")
    finally:
        folder.chmod(0o700)


def test_missing_folders_are_still_created(tmp_path):
    with atomic_output(tmp_path / "a" / "b" / "out.csv") as tmp:
        tmp.write_text("x")
    assert (tmp_path / "a" / "b" / "out.csv").read_text() == "x"


def test_cli_refuses_an_output_under_a_file(tmp_path, cli):
    (tmp_path / "somefile.txt").write_text("x")
    result = cli("sample", tmp_path / "model.lookalike", "-n", 5, "-o", tmp_path / "somefile.txt" / "out.csv")
    assert result.exit_code == 1
    assert "error:" in result.stderr and "is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
