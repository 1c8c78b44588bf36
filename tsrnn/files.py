"""Atomic output: an interrupted run never leaves a half-written file or folder.

Every model file, report and saved backtest is written through this module. The output is
built under a temporary name beside its target (same folder, hence same file system) and
renamed into place only once it is complete, so the target always holds either its previous
content or the new one. Temporary names are unique (:mod:`tempfile`), never fixed: nothing is
ever deleted that this module did not create.

This module imports only the standard library.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

log = logging.getLogger(__name__)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary file path beside ``path``; rename it onto ``path`` only on success.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write. Its parent folders are created if missing.

    Yields
    ------
    pathlib.Path
        An empty file with a unique name in the same folder as ``path``: write to it.

    Notes
    -----
    On success the file is made readable by everyone (mode ``0644``) and moved onto ``path``
    with :func:`os.replace`, which is atomic on POSIX and Windows. On any exception (including
    ``KeyboardInterrupt``) the temporary file is removed and ``path`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are meant to be shared
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to the file ``path`` (UTF-8), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file; its parent folders are created if missing.
    text : str

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_text_atomic(pathlib.Path(tempfile.mkdtemp()) / "deep" / "a.md", "# hi")
    >>> out.read_text()
    '# hi'
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


@contextmanager
def atomic_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; swap it in for ``path`` on success.

    Parameters
    ----------
    path : str or os.PathLike
        The folder to write, replaced whole if it exists. Its parent folders are created if
        missing.

    Yields
    ------
    pathlib.Path
        An empty folder with a unique name in the parent of ``path``: fill it.

    Raises
    ------
    FileExistsError
        If ``path`` exists and is not a folder (a file, or a dangling link); nothing is written.

    Notes
    -----
    On success the folder is made readable by everyone (mode ``0755``) and swapped in:

    1. an existing ``path`` is moved into a new, uniquely named folder beside it;
    2. the temporary folder is renamed onto ``path``; should this fail, the previous folder is
       moved back and the error raised;
    3. the previous folder is deleted. Should this fail, the new folder stays in place and a
       warning names the copy left behind.

    At every point ``path`` holds the complete previous folder or the complete new one. On
    any exception in the ``with`` body (including ``KeyboardInterrupt``) the temporary folder
    is removed and ``path`` is left as it was. Only folders created here are ever deleted:
    no fixed name (such as ``.NAME.old``) is used, so no file of the user's can be caught.

    Callers that must not replace an arbitrary folder (a mistyped path) check ``path`` first;
    see :func:`tsrnn.report.backtest_report.write_report`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "result"
    >>> with atomic_folder(target) as tmp:
    ...     _ = (tmp / "a.csv").write_text("1")
    >>> with atomic_folder(target) as tmp:  # replaced whole
    ...     _ = (tmp / "b.csv").write_text("2")
    >>> sorted(p.name for p in target.iterdir())
    ['b.csv']
    >>> sorted(p.name for p in target.parent.iterdir())  # nothing left beside it
    ['result']
    """
    target = Path(path)
    _refuse_non_folder(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; outputs are meant to be shared
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # unique name: ours, and not yet moved
        raise


def check_target(
    path: str | os.PathLike[str], *, folder: bool = False, example: str = "model.tsrnn"
) -> Path:
    """Raise now, before any work, if ``path`` could not be written later.

    Checks that ``path`` is not a folder where a file is wanted (nor a file where a folder is
    wanted), that the nearest existing folder above it is a folder, and that a file can be
    created there: a temporary file is made and removed again, which also catches read-only
    file systems and permissions that ``os.access`` misreports (for root, say).

    Parameters
    ----------
    path : str or os.PathLike
        The file (or, with ``folder=True``, the folder) a command will write.
    folder : bool, default False
    example : str, default "model.tsrnn"
        A file name the message offers inside a folder given for a file.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    IsADirectoryError
        A file is wanted and ``path`` is a folder.
    FileExistsError
        A folder is wanted and ``path`` is a file.
    NotADirectoryError
        A parent of ``path`` is a file.
    PermissionError
        Nothing can be created in the folder that would hold ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> where = pathlib.Path(tempfile.mkdtemp())
    >>> check_target(where / "new" / "model.tsrnn").name
    'model.tsrnn'
    >>> check_target(where)
    Traceback (most recent call last):
    ...
    IsADirectoryError: ... is a folder; give a file path inside it, e.g. .../model.tsrnn
    """
    target = Path(path)
    if folder:
        _refuse_non_folder(target)
    elif target.is_dir():
        raise IsADirectoryError(
            f"{target} is a folder; give a file path inside it, e.g. {target / example}"
        )
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"{parent} is a file, so {target} cannot be created under it")
    try:
        fd, probe = tempfile.mkstemp(prefix=".tsrnn-probe.", dir=parent)
    except OSError as exc:
        raise PermissionError(
            f"cannot write {target}: the folder {parent} does not accept new files "
            f"({exc.strerror or exc}); choose another location"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return target


def _refuse_non_folder(target: Path) -> None:
    if os.path.lexists(target) and not target.is_dir():
        raise FileExistsError(
            f"{target} exists and is not a folder; refusing to replace it with a folder"
        )


def _swap_in(new: Path, target: Path) -> None:
    """Rename the folder ``new`` onto ``target``, replacing an existing ``target`` folder."""
    _refuse_non_folder(target)
    if not os.path.lexists(target):
        os.replace(new, target)
        return
    # Move the previous folder *into* a fresh folder of ours: a unique name nobody else holds,
    # and a rename onto a path that does not exist, which works on every platform.
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    old = aside / target.name
    try:
        os.replace(target, old)
    except BaseException:
        with suppress(OSError):
            aside.rmdir()
        raise
    try:
        os.replace(new, target)
    except BaseException:
        try:
            os.replace(old, target)
        except OSError:
            log.error("could not put %s back; the previous folder is in %s", target, old)
        else:
            with suppress(OSError):
                aside.rmdir()
        raise
    try:
        shutil.rmtree(aside)
    except OSError as exc:
        log.warning(
            "%s is written, but its previous version is left in %s (%s)", target, aside, exc
        )


__all__ = ["atomic_folder", "atomic_path", "check_target", "write_text_atomic"]
