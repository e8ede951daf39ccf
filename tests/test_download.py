"""Dataset downloads shared by processes: one downloads while the others wait for it, on a fake
torchvision (no network), with real processes racing for the same data folder."""
import errno
import fcntl
import os
import pickle
import subprocess
import sys
import threading

import numpy as np

import datasets
import downloads
from conftest import ROOT

# A process of a launch: loads cifar10 from DATA (argv 1) through a fake torchvision whose
# download, as the real one, writes the archive for a second, then unpacks it into the release's
# folder file by file. With argv 3 'fail-first', the first download of all fails. argv 2 says when
# to start: 'now', after 'barrier' (all ready), once one is 'downloading' or once 'unpacking'.
SCRIPT = r"""
import os, pickle, sys, time, types
from pathlib import Path
import numpy as np
sys.path.insert(0, os.environ["REPO"])
import datasets
data, start, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
counter, ready = data.parent / "downloads", data.parent / "ready"
folder = data / "cifar-10-batches-py"

class CIFAR10:
    def __init__(self, root, train, download):
        first = not counter.exists()
        with open(counter, "a") as f:
            f.write(f"{os.getpid()}\n")
        data.mkdir(parents=True, exist_ok=True)
        (data / "cifar-10-python.tar.gz").write_bytes(b"part")
        time.sleep(1)
        if mode == "fail-first" and first:
            raise ConnectionError("offline")
        folder.mkdir(exist_ok=True)
        batch = pickle.dumps({"data": np.zeros((20, 3072), np.uint8), "labels": [0] * 20})
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            (folder / name).write_bytes(batch)
            time.sleep(0.05)
        meta = {"label_names": [f"c{i}" for i in range(10)]}
        (folder / "batches.meta").write_bytes(pickle.dumps(meta))

vision = types.ModuleType("torchvision")
vision.datasets = types.SimpleNamespace(CIFAR10=CIFAR10)
sys.modules["torchvision"] = vision
with open(ready, "a") as f:
    f.write("x")
while start == "barrier" and len(ready.read_text()) < int(os.environ["PROCESSES"]):
    time.sleep(0.01)
awaited = {"downloading": counter, "unpacking": folder}.get(start)
while awaited and not awaited.exists():
    time.sleep(0.01)
print(len(datasets.load_dataset("cifar10", data)["train_y"]))
"""


def launch(tmp_path, starts, mode="ok"):
    """A process per entry of `starts` on tmp_path/data: their (rc, out, err), the downloads run."""
    env = dict(os.environ, REPO=str(ROOT), PROCESSES=str(len(starts)))
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "data"), start, mode],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for start in starts]
    outputs = [p.communicate(timeout=60) for p in procs]
    results = [(p.returncode, *output) for p, output in zip(procs, outputs)]
    counter = tmp_path / "downloads"
    fetched = counter.read_text().split() if counter.exists() else []
    return results, fetched


def test_processes_of_one_launch_download_once_and_all_get_the_data(tmp_path):
    # two start together; the third comes once the release's folder is there but still filling
    results, fetched = launch(tmp_path, ["barrier", "barrier", "unpacking"])
    assert len(fetched) == 1, f"{len(fetched)} downloads"
    assert [(rc, out.strip()) for rc, out, _ in results] == [(0, "100")] * 3, results
    waited = [err for _, _, err in results if "waiting for another process" in err]
    assert waited  # the pair started together at least; the third may come as the files are done
    assert all(f"(pid {fetched[0]}) to finish downloading cifar10 into {tmp_path / 'data'}" in err
               for err in waited)
    assert not (tmp_path / "data" / downloads.DOWNLOAD_LOCK).exists()


def test_a_failed_download_leaves_the_waiting_process_to_download_itself(tmp_path):
    results, fetched = launch(tmp_path, ["now", "downloading"], mode="fail-first")
    (rc, _, err), (rc2, out2, _) = results
    assert rc == 2 and "could not be fetched (ConnectionError)" in err and "Traceback" not in err
    assert (rc2, out2.strip()) == (0, "100") and len(fetched) == 2
    assert not (tmp_path / "data" / downloads.DOWNLOAD_LOCK).exists()


def write_release(folder):
    folder.mkdir(parents=True)
    batch = pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]})
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(batch)
    meta = {"label_names": [str(i) for i in range(10)]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))


def test_data_already_there_takes_no_lock(tmp_path, monkeypatch):
    write_release(tmp_path / "cifar-10-batches-py")

    def fetch(*args):
        raise AssertionError("fetched data already there")
    monkeypatch.setattr(downloads, "fetch", fetch)
    assert len(datasets.load_dataset("cifar10", tmp_path)["train_y"]) == 10
    assert not (tmp_path / downloads.DOWNLOAD_LOCK).exists()


def test_failed_download_into_an_existing_folder_leaves_it_as_it_was(tmp_path):
    (tmp_path / "mine").write_text("kept")

    def download():
        (tmp_path / "MNIST").mkdir()
        raise OSError("no space")
    folders = [tmp_path, tmp_path / "MNIST"]
    assert downloads.fetch("mnist", download, folders, lambda: False) == "OSError"
    assert os.listdir(tmp_path) == ["mine"]


def test_a_filesystem_without_flock_downloads_unlocked_with_a_note(tmp_path, monkeypatch, capsys):
    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(downloads.fcntl, "flock", no_flock)
    calls = []
    download = lambda: calls.append(1) or (tmp_path / "data" / "x").mkdir()
    present = (tmp_path / "data" / "x").is_dir
    assert downloads.fetch("x", download, [tmp_path / "data"], present) is None
    assert len(calls) == 1 and "cannot be locked (No locks available)" in capsys.readouterr().err
    assert os.listdir(tmp_path / "data") == ["x"]


def test_the_waiting_line_names_a_holder_that_has_not_yet_written_its_pid(tmp_path, capsys):
    # the holder takes the lock, then writes its pid: a process that finds it locked in between
    # waits for the pid (it read "unknown" before)
    path = tmp_path / downloads.DOWNLOAD_LOCK
    holder = os.open(path, os.O_CREAT | os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    threading.Timer(0.2, os.write, (holder, b"4242")).start()
    threading.Timer(0.4, os.close, (holder,)).start()  # closing releases the lock
    waiter = os.open(path, os.O_RDWR)
    assert downloads._flock(waiter, tmp_path, "cifar10", False) is True
    os.close(waiter)
    assert "(pid 4242) to finish downloading cifar10" in capsys.readouterr().err
