"""Dataset downloads that several processes may start at once: an flock on a lock file in the data
folder lets one process download while the others wait, then find the data present.
"""
import errno
import fcntl
import os
import shutil
import sys
import time
from pathlib import Path


DOWNLOAD_LOCK = ".download.lock"  # in the data folder while a download runs, removed after it


def downloading(folder):
    """Whether a download into `folder` may be under way: its data may be there but incomplete."""
    return (Path(folder) / DOWNLOAD_LOCK).exists()


def fetch(name, download, folders, present):
    """Run a downloader once across processes; the name of its error, or None. folders[0] is the
    data folder: an flock on its lock file lets one process download while the others wait, then
    find the data present (`present()`) and return. When a download fails, the folders of `folders`
    that it created are removed again, so that a failed fetch leaves nothing in the user's data
    folder. Callers check present(), then downloading(): data already there takes no lock."""
    said = False  # the waiting line, once
    while True:
        new = [f for f in folders if not f.exists()]  # before the lock's folder is made
        try:
            fd, said = _lock_download(folders[0], name, said)
        except OSError as e:  # an unwritable data folder: the download could not write there either
            _remove_first(new)
            return type(e).__name__
        if fd is None:  # the lock file went while we waited: its holder finished
            continue
        try:
            return None if present() else _download(download, new)
        finally:
            _unlock_download(folders[0], fd)


def _download(download, new):
    try:
        download()
        return None
    except Exception as e:
        _remove_first(new)
        return type(e).__name__


def _remove_first(new):
    for folder in new[:1]:  # the outermost new folder holds the others
        shutil.rmtree(folder, ignore_errors=True)


def _lock_download(folder, name, said):
    """An flock on folder's lock file, waited for: (fd, said), fd None when the file was removed
    while we waited (lock the new one)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DOWNLOAD_LOCK
    fd = os.open(path, os.O_CREAT | os.O_RDWR)
    try:
        said = _flock(fd, folder, name, said)
        try:
            replaced = os.stat(path).st_ino != os.fstat(fd).st_ino
        except FileNotFoundError:
            replaced = True
    except BaseException:
        os.close(fd)
        raise
    if replaced:
        os.close(fd)
        return None, said
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd, said


def _flock(fd, folder, name, said):
    """Lock fd, waiting for its holder with one line the first time; a filesystem without flock goes
    unlocked, with a note. Whether the line has been said."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if not said:
            pid = _holder_pid(fd)
            print(f"note: waiting for another process (pid {pid}) to finish downloading {name} "
                  f"into {folder}", file=sys.stderr, flush=True)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    except OSError as e:
        if e.errno not in (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise
        print(f"note: {folder} cannot be locked ({e.strerror}); downloading {name} without waiting "
              "for other processes", file=sys.stderr)
    return said


def _holder_pid(fd):
    """The lock holder's pid from the lock file; a holder writes it just after taking the lock, so
    an empty file is read again for up to about two seconds before it is "unknown"."""
    for _ in range(40):
        pid = os.pread(fd, 32, 0).decode().strip()
        if pid:
            return pid
        time.sleep(0.05)
    return "unknown"


def _unlock_download(folder, fd):
    # removed while still held, so that no process locks the old file after us
    (folder / DOWNLOAD_LOCK).unlink(missing_ok=True)
    os.close(fd)
