"""The loaders' labels and statistics on generated folders: train and test class folders that
disagree are refused, the decoded-image cache follows every file's label, and the normalization
statistics come from the whole training set."""
import shutil

import pytest
import torch

import datasets
from test_data import write_image


def refused(capsys, load, *args):
    """The one line a loader prints when it refuses its input (it exits 2)."""
    with pytest.raises(SystemExit) as stop:
        load(*args)
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1, err
    return err[0]


def test_imagenet_val_folders_other_than_trains_are_refused(tmp_path, capsys):
    # ImageFolder numbers each split's folders on its own: val n03 would be label 1, not 2
    for wnid in ("n01", "n02", "n03"):
        write_image(tmp_path / "train" / wnid / "0.JPEG", 0)
    for wnid in ("n01", "n03"):
        write_image(tmp_path / "val" / wnid / "0.JPEG", 0)
    line = refused(capsys, datasets.load_imagenet, tmp_path)
    assert "val lacks 1 (n02)" in line and "sort val into train's <wnid> folders" in line
    write_image(tmp_path / "val" / "n02" / "0.JPEG", 0)
    data = datasets.load_imagenet(tmp_path)
    assert data["test"].class_to_idx == data["train"].class_to_idx == dict(n01=0, n02=1, n03=2)


def test_imagenet_val_as_the_archive_unpacks_it_is_refused(tmp_path, capsys):
    for wnid in ("n01", "n02"):
        write_image(tmp_path / "train" / wnid / "0.JPEG", 0)
    write_image(tmp_path / "val" / "images" / "ILSVRC2012_val_00000001.JPEG", 0)
    assert "adds 1 (images)" in refused(capsys, datasets.load_imagenet, tmp_path)


def test_imagefolder_test_classes_missing_from_train_are_refused(tmp_path, capsys):
    for split in ("train", "test"):
        for label, cls in enumerate(["a", "b"]):
            write_image(tmp_path / split / cls / "0.png", label, fmt="png")
    write_image(tmp_path / "test" / "z" / "0.png", 3, fmt="png")  # counted nowhere before
    line = refused(capsys, datasets.load_dataset, "imagefolder", tmp_path)
    assert "train lacks: z" in line


def test_the_cache_follows_a_file_moved_to_another_class(tmp_path):
    for split in ("train", "test"):
        for label, cls in enumerate(["a", "b", "c"]):
            for i in range(2):
                write_image(tmp_path / split / cls / f"{i}.png", label, fmt="png")
    assert datasets.load_dataset("imagefolder", tmp_path)["train_y"].tolist() == [0, 0, 1, 1, 2, 2]
    # same count, same bytes, same first and last file: the old key took the cache as current
    shutil.move(tmp_path / "train" / "b" / "1.png", tmp_path / "train" / "c" / "0a.png")
    assert datasets.load_dataset("imagefolder", tmp_path)["train_y"].tolist() == [0, 0, 1, 2, 2, 2]


def test_the_cache_follows_tiny_imagenets_annotations(tmp_path):
    root = tmp_path / "tiny-imagenet-200"
    wnids = ["n01", "n02"]
    root.mkdir()
    (root / "wnids.txt").write_text("\n".join(wnids))
    for label, wnid in enumerate(wnids):
        write_image(root / "train" / wnid / "images" / f"{wnid}_0.JPEG", label, size=(64, 64))
        write_image(root / "val" / "images" / f"val_{label}.JPEG", label, size=(64, 64))

    def annotate(labels):
        (root / "val" / "val_annotations.txt").write_text(
            "".join(f"val_{i}.JPEG\t{wnids[y]}\t0\t0\t63\t63\n" for i, y in enumerate(labels)))
        return datasets.load_dataset("tiny-imagenet", tmp_path)["test_y"].tolist()

    assert annotate([1, 0]) == [1, 0]
    assert annotate([0, 1]) == [0, 1]  # a corrected annotation file is read, not the cache


def test_cifar100_image_folders_are_the_releases_classes_in_its_order(tmp_path, capsys):
    for split in ("train", "test"):
        for label, cls in enumerate(datasets.CIFAR100_CLASSES):
            name = "Aquarium_fish" if cls == "aquarium_fish" else cls  # sorts before 'apple'
            write_image(tmp_path / split / name / "0.png", label % 12, size=(32, 32), fmt="png")
    line = refused(capsys, datasets.load_dataset, "cifar100", tmp_path)
    assert "not cifar100's 100 (apple, aquarium_fish, baby, bear, ... in this order)" in line
    for split in ("train", "test"):
        (tmp_path / split / "Aquarium_fish").rename(tmp_path / split / "aquarium_fish")
    data = datasets.load_dataset("cifar100", tmp_path)
    assert data["classes"] == datasets.CIFAR100_CLASSES
    assert data["test_y"].tolist() == list(range(100))


def test_normalization_statistics_cover_every_class_of_a_class_major_listing():
    # 15,000 images, three classes of 5,000 at pixel values 0, 100 and 200: the mean is 100
    train_x = torch.tensor([0, 100, 200], dtype=torch.uint8).repeat_interleave(5000)
    mean, std = datasets.channel_stats(train_x.view(-1, 1, 1, 1))
    assert mean == [pytest.approx(100, abs=0.02)] and std == [pytest.approx(81.65, abs=0.05)]
