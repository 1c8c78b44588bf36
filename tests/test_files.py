"""Atomic output (tsrnn.files): an interrupted or failing write leaves the old file or folder
whole, or the new one whole, and nothing of its own beside it; it never deletes a user's files."""

import logging
import os
import shutil
import stat

import pytest

from tsrnn import datasets
from tsrnn.evaluate.backtest import backtest
from tsrnn.files import atomic_folder, atomic_path, write_text_atomic
from tsrnn.models.stats.naive import Naive, SeasonalNaive
from tsrnn.report.backtest_report import write_report


def _tree(folder):
    """Every file under ``folder`` (relative path) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def _fill(folder, version):
    (folder / "a.csv").write_text(f"{version} a")
    (folder / "sub").mkdir()
    (folder / "sub" / "b.csv").write_text(f"{version} b")


OLD = {"a.csv": b"old a", "sub/b.csv": b"old b"}
NEW = {"a.csv": b"new a", "sub/b.csv": b"new b"}


@pytest.fixture
def old_folder(tmp_path):
    target = tmp_path / "out"
    with atomic_folder(target) as tmp:
        _fill(tmp, "old")
    assert _tree(target) == OLD
    return target


def _fail_at(monkeypatch, name, call):
    """Make ``os.<name>`` raise OSError at its ``call``-th call (1-based), work otherwise."""
    real, calls = getattr(os, name), []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == call:
            raise OSError(f"injected failure of os.{name} call {call}")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, flaky)
    return calls


# ---------------------------------------------------------------------- files
def test_a_file_write_that_raises_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.md"
    write_text_atomic(target, "old report")
    before = target.read_bytes()
    for error in (KeyboardInterrupt, RuntimeError):
        with pytest.raises(error), atomic_path(target) as tmp:
            tmp.write_text("half a rep")
            raise error
        assert target.read_bytes() == before
        assert _listing(tmp_path) == ["report.md"]


def test_a_failing_rename_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = write_text_atomic(tmp_path / "model.tsrnn", "old model")
    _fail_at(monkeypatch, "replace", 1)
    with pytest.raises(OSError, match="injected"):
        write_text_atomic(target, "new model")
    assert target.read_text() == "old model"
    assert _listing(tmp_path) == ["model.tsrnn"]


def test_a_written_file_is_complete_and_readable_by_everyone(tmp_path):
    target = write_text_atomic(tmp_path / "deep" / "er" / "out.md", "x ✓")
    assert target == tmp_path / "deep" / "er" / "out.md"
    assert target.read_text(encoding="utf-8") == "x ✓"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    write_text_atomic(target, "y")  # replaced
    assert target.read_text() == "y"
    assert _listing(target.parent) == ["out.md"]


# ---------------------------------------------------------------------- folders
def test_a_folder_is_written_whole_readable_by_everyone_and_replaced_whole(tmp_path):
    target = tmp_path / "deep" / "out"
    with atomic_folder(target) as tmp:
        assert tmp.parent == target.parent and tmp.is_dir() and not any(tmp.iterdir())
        assert not target.exists()  # nothing at the target until the body is done
        _fill(tmp, "old")
    assert _tree(target) == OLD
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    with atomic_folder(target) as tmp:
        (tmp / "only.csv").write_text("new")
    assert _tree(target) == {"only.csv": b"new"}  # no file of the old folder survives
    assert _listing(target.parent) == ["out"]


def test_a_folder_write_that_raises_leaves_the_old_folder_and_no_temporary(old_folder):
    for error in (KeyboardInterrupt, RuntimeError):
        with pytest.raises(error), atomic_folder(old_folder) as tmp:
            _fill(tmp, "new")
            raise error
        assert _tree(old_folder) == OLD
        assert _listing(old_folder.parent) == ["out"]


def test_a_fresh_folder_write_that_raises_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_folder(tmp_path / "out") as tmp:
        _fill(tmp, "new")
        raise RuntimeError
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(
    ("call", "expected"),
    [(1, OLD), (2, OLD)],
    ids=["moving-the-old-folder-aside", "moving-the-new-folder-in"],
)
def test_a_failing_rename_in_the_swap_leaves_the_old_folder_whole(
    old_folder, monkeypatch, call, expected
):
    calls = _fail_at(monkeypatch, "replace", call)
    with pytest.raises(OSError, match="injected"), atomic_folder(old_folder) as tmp:
        _fill(tmp, "new")
    assert len(calls) == call + (call == 2)  # the 2nd failing, the old folder is moved back
    assert _tree(old_folder) == expected
    assert _listing(old_folder.parent) == ["out"]


def test_a_failing_rename_of_a_fresh_folder_leaves_nothing(tmp_path, monkeypatch):
    _fail_at(monkeypatch, "replace", 1)
    with pytest.raises(OSError, match="injected"), atomic_folder(tmp_path / "out") as tmp:
        _fill(tmp, "new")
    assert _listing(tmp_path) == []


def test_failing_to_delete_the_old_folder_still_leaves_the_new_one_whole(
    old_folder, monkeypatch, caplog
):
    """The new folder is in place when the old one is deleted: a failure there is no failed
    write. The old copy (half deleted here, as a real failure would leave it) stays only in
    the folder made for it, which the warning names."""
    real = shutil.rmtree

    def half_then_fail(path, *args, **kwargs):
        if str(path).endswith(".old"):
            os.remove(os.path.join(path, "out", "a.csv"))
            raise PermissionError("injected: cannot delete")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", half_then_fail)
    with caplog.at_level(logging.WARNING, logger="tsrnn.files"), atomic_folder(old_folder) as tmp:
        _fill(tmp, "new")
    assert _tree(old_folder) == NEW
    leftover = [name for name in _listing(old_folder.parent) if name != "out"]
    assert len(leftover) == 1 and leftover[0].startswith(".out.") and leftover[0] != ".out.old"
    assert leftover[0] in caplog.text and "previous version is left" in caplog.text


def test_refuses_to_replace_a_file_with_a_folder(tmp_path):
    target = write_text_atomic(tmp_path / "out", "a user's file")
    with pytest.raises(FileExistsError, match="not a folder"), atomic_folder(target):
        pytest.fail("the body must not run")
    assert target.read_text() == "a user's file"
    assert _listing(tmp_path) == ["out"]


def test_a_users_dot_old_folder_beside_the_target_survives(old_folder):
    """Regression: the report writer used a fixed ``.NAME.old`` and deleted it unconditionally."""
    mine = old_folder.parent / ".out.old"
    mine.mkdir()
    (mine / "thesis.txt").write_text("precious")
    for version in ("new", "newer"):
        with atomic_folder(old_folder) as tmp:
            (tmp / "v.txt").write_text(version)
        assert _tree(old_folder) == {"v.txt": version.encode()}
        assert _tree(mine) == {"thesis.txt": b"precious"}
        assert _listing(old_folder.parent) == [".out.old", "out"]


# ---------------------------------------------------------------------- callers
@pytest.fixture(scope="module")
def result():
    air = datasets.load("air_passengers")
    return backtest([Naive(), SeasonalNaive()], air, horizon=12, n_windows=2)


def test_a_users_dot_old_folder_survives_a_report_and_a_saved_backtest(result, tmp_path):
    for name, write in (("report", write_report), ("bt", lambda r, p: r.save(p))):
        mine = tmp_path / f".{name}.old"
        mine.mkdir()
        (mine / "thesis.txt").write_text("precious")
        write(result, tmp_path / name)  # a fresh folder
        write(result, tmp_path / name)  # replacing it
        assert _tree(mine) == {"thesis.txt": b"precious"}
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o755
    assert _listing(tmp_path) == [".bt.old", ".report.old", "bt", "report"]
