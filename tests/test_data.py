"""Tests of the dataset loaders on small generated files in each dataset's real on-disk format,
and of the augmentation."""
import gzip
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

import batches
import common
import datasets
import flags
from conftest import run_script


def write_cifar(root, name, n_train=20, n_test=10):
    """The python-pickle release: cifar-10-batches-py/data_batch_1..5, test_batch, batches.meta."""
    rng = np.random.default_rng(0)
    if name == "cifar10":
        folder = root / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        for i in range(1, 6):
            batch = {
                "data": rng.integers(0, 256, (n_train, 3072), dtype=np.uint8),
                "labels": [i % 10] * n_train,
            }
            (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch))
        test = {
            "data": rng.integers(0, 256, (n_test, 3072), dtype=np.uint8),
            "labels": list(range(n_test)),
        }
        (folder / "test_batch").write_bytes(pickle.dumps(test))
        meta = {"label_names": [f"c{i}" for i in range(10)]}
        (folder / "batches.meta").write_bytes(pickle.dumps(meta))
    else:
        folder = root / "cifar-100-python"
        folder.mkdir(parents=True)
        for split, n in (("train", n_train), ("test", n_test)):
            batch = {
                "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                "fine_labels": [99] * n,
            }
            (folder / split).write_bytes(pickle.dumps(batch))
        meta = {"fine_label_names": [f"c{i}" for i in range(100)]}
        (folder / "meta").write_bytes(pickle.dumps(meta))
    return folder


def test_cifar10_pickles_load_in_order(tmp_path):
    folder = write_cifar(tmp_path, "cifar10")
    data = datasets.load_dataset("cifar10", tmp_path)
    assert data["train_x"].shape == (100, 3, 32, 32) and data["train_x"].dtype == torch.uint8
    assert data["test_x"].shape == (10, 3, 32, 32) and data["num_classes"] == 10
    first = pickle.loads((folder / "data_batch_1").read_bytes())["data"][0]
    assert torch.equal(data["train_x"][0], torch.from_numpy(first.reshape(3, 32, 32)))
    assert data["train_y"][:20].tolist() == [1] * 20 and data["train_y"][-1] == 5
    assert data["test_y"].tolist() == list(range(10))


def test_cifar100_uses_fine_labels(tmp_path):
    write_cifar(tmp_path, "cifar100")
    data = datasets.load_dataset("cifar100", tmp_path)
    assert data["num_classes"] == 100 and data["train_y"].tolist() == [99] * 20


def test_corrupt_cifar_file_is_one_clear_error(tmp_path):
    folder = write_cifar(tmp_path, "cifar10")
    (folder / "data_batch_3").write_bytes(b"\x80\x04 truncated")
    r = run_script("train.py", "--dataset", "cifar10", "--data-dir", tmp_path, "--epochs", "1",
                   "--device", "cpu", "--out", tmp_path / "raw")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert (r.stderr.strip().startswith("error:")
            and "data_batch_3" in r.stderr
            and len(r.stderr.strip().splitlines()) == 1)


def test_cifar_offline_download_fails_with_one_line_naming_the_archive(tmp_path):
    # a proxy on a closed local port fails every download at once, as on a machine without network
    proxy = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
             "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    r = run_script("train.py", "--dataset", "cifar100", "--data-dir", tmp_path / "data",
                   "--device", "cpu", "--out", tmp_path / "raw", env=proxy, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "cifar-100-python.tar.gz" in r.stderr and str(tmp_path / "data") in r.stderr
    # a run that cannot start leaves no run folder, and a failed fetch no folder in the data folder
    assert not (tmp_path / "data").exists() and not (tmp_path / "raw").exists()


def write_image(path, label, size=(8, 8), fmt="jpg"):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, (20 * label,) * 3)
    image.save(path, format="JPEG" if fmt == "jpg" else "PNG", quality=100)


def test_imagefolder_decodes_once_and_reuses_its_cache(tmp_path):
    for split, n in (("train", 3), ("val", 2)):
        for label, cls in enumerate(["cat", "dog"]):
            for i in range(n):
                write_image(tmp_path / split / cls / f"{i}.{'png' if i == 0 else 'jpg'}", label,
                            fmt="png" if i == 0 else "jpg")
    data = datasets.load_dataset("imagefolder", tmp_path)
    assert data["classes"] == ["cat", "dog"] and data["train_x"].shape == (6, 3, 8, 8)
    assert data["train_y"].tolist() == [0, 0, 0, 1, 1, 1] and data["test_x"].shape == (4, 3, 8, 8)
    # dog pixels are 20 (JPEG rounding aside)
    assert abs(int(data["train_x"][3].float().mean()) - 20) <= 2
    cache = tmp_path / ".decoded-uint8.pt"
    assert cache.exists()
    stamp = cache.stat().st_mtime_ns
    again = datasets.load_dataset("imagefolder", tmp_path)
    assert cache.stat().st_mtime_ns == stamp and torch.equal(again["train_x"], data["train_x"])
    write_image(tmp_path / "train" / "dog" / "9.jpg", 1)  # a new file invalidates the cache
    assert datasets.load_dataset("imagefolder", tmp_path)["train_x"].shape[0] == 7


def write_cifar10_images(root, per_class=2):
    """CIFAR-10 as image files (a JPEG or PNG copy of the release): train/<class>/*.png,
    test/<class>/*.png."""
    for split in ("train", "test"):
        for label, cls in enumerate(datasets.CIFAR10_CLASSES):
            for i in range(per_class):
                write_image(root / split / cls / f"{i:04d}.png", label, size=(32, 32), fmt="png")


def test_cifar10_as_image_files_trains_as_cifar10_and_ttq_starts_from_it(tmp_path):
    # the TTQ paper's pair as ttq_paper.sh lists it: --dataset cifar10, --init-from OUT/cifar10/...
    # 130 images: one batch of the listed size, 128
    write_cifar10_images(tmp_path / "jpeg", per_class=13)
    data = datasets.load_dataset("cifar10", tmp_path / "jpeg")
    assert data["classes"] == datasets.CIFAR10_CLASSES and data["format"] == "images"
    assert (data["train_y"].tolist() == [i // 13 for i in range(130)]
            and int(data["train_x"][-1].max()) == 180)
    flags = ["--model", "resnet20", "--dataset", "cifar10", "--data-dir", tmp_path / "jpeg",
             "--epochs", "1", "--device", "cpu", "--quiet", "--out", tmp_path / "raw",
             "--seed", "42"]
    r = run_script("train.py", *flags)
    assert r.returncode == 0, r.stderr
    fp32 = tmp_path / "raw" / "cifar10" / "resnet20" / "fp32_s42"
    assert common.read_json(fp32 / "config.json")["data_format"] == "images"
    r = run_script("train.py", *flags, "--quant", "ttq", "--keep", "conv1,fc",
                   "--init-from", fp32 / "final.pt")
    assert r.returncode == 0, r.stderr
    results = tmp_path / "raw/cifar10/resnet20/ttq_keep-conv1-fc_s42/results.json"
    assert common.read_json(results)["status"] == "completed"


def test_cifar10_image_folder_with_other_classes_is_one_clear_error(tmp_path):
    for cls in ("cat", "dog"):
        for split in ("train", "test"):
            write_image(tmp_path / split / cls / "0.png", 1, size=(32, 32), fmt="png")
    r = run_script("train.py", "--dataset", "cifar10", "--data-dir", tmp_path, "--device", "cpu",
                   "--out", tmp_path / "raw")
    assert (r.returncode == 2
            and "Traceback" not in r.stderr
            and len(r.stderr.strip().splitlines()) == 1)
    assert "2 class folders" in r.stderr and "airplane" in r.stderr


def test_numbered_class_folders_sort_as_numbers(tmp_path):
    for label in (0, 2, 10):
        for split in ("train", "test"):
            write_image(tmp_path / split / str(label) / "0.png", label, fmt="png")
    assert datasets.load_dataset("imagefolder", tmp_path)["classes"] == ["0", "2", "10"]


def test_imagefolder_missing_is_one_clear_error(tmp_path):
    r = run_script("train.py", "--dataset", "imagefolder", "--data-dir", tmp_path,
                   "--device", "cpu", "--out", tmp_path / "raw")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "train/<class>" in r.stderr


def test_tiny_imagenet_layout(tmp_path):
    root = tmp_path / "tiny-imagenet-200"
    wnids = ["n01443537", "n01629819", "n01641577"]
    root.mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(wnids) + "\n")
    for label, wnid in enumerate(wnids):
        for i in range(2):
            write_image(root / "train" / wnid / "images" / f"{wnid}_{i}.JPEG", label, size=(64, 64))
    rows = []
    for i, label in enumerate([2, 0, 1, 2]):
        write_image(root / "val" / "images" / f"val_{i}.JPEG", label, size=(64, 64))
        rows.append(f"val_{i}.JPEG\t{wnids[label]}\t0\t0\t63\t63")
    (root / "val" / "val_annotations.txt").write_text("\n".join(rows) + "\n")
    data = datasets.load_dataset("tiny-imagenet", tmp_path)
    assert data["num_classes"] == 3 and data["train_x"].shape == (6, 3, 64, 64)
    assert (data["train_y"].tolist() == [0, 0, 1, 1, 2, 2]
            and data["test_y"].tolist() == [2, 0, 1, 2])


def test_synthetic_is_deterministic_in_the_seed():
    a = datasets.load_synthetic(seed=1)
    b = datasets.load_synthetic(seed=1)
    c = datasets.load_synthetic(seed=2)
    assert torch.equal(a["train_x"], b["train_x"]) and not torch.equal(a["train_x"], c["train_x"])
    assert (a["train_x"].dtype == torch.uint8
            and sorted(a["train_y"].unique().tolist()) == list(range(10)))


def test_random_crop_flip_takes_shifted_windows_of_the_padded_image():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4) + 1
    dy, dx, flip = batches.crop_flip_draws(torch.Generator().manual_seed(0), (2,), padding=1)
    assert dy.max() <= 2 and dx.min() >= 0 and flip.dtype == torch.bool
    out = batches.random_crop_flip(x, dy, dx, flip, padding=1)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    for i in range(2):
        window = padded[i, :, dy[i]:dy[i] + 4, dx[i]:dx[i] + 4]
        assert torch.equal(out[i], window.flip(-1) if flip[i] else window)


@pytest.mark.parametrize("dataset,augmented", [("mnist", False), ("cifar10", True)])
def test_mnist_batches_are_not_cropped_or_flipped(dataset, augmented):
    import train
    argv = ["--dataset", dataset, "--device", "cpu", "--batch-size", "64"]
    args = flags.resolve(flags.parse_args(argv))
    x = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
    data = dict(train_x=x, train_y=torch.arange(64))
    draws = batches.epoch_draws(args, data, torch.Generator().manual_seed(0), 1)
    batch, labels, _ = next(batches.train_batches(args, data, draws, 1))
    assert torch.equal(batch, x[labels]) != augmented  # a flipped digit is another shape


# ----------------------------------------------------------------------------- rotate-crop

def mnist_args(*argv):
    argv = ["--dataset", "mnist", "--device", "cpu", "--batch-size", "8", *argv]
    return flags.resolve(flags.parse_args(argv))


def equal(draws, **rows):
    return all(torch.equal(draws[name], row) for name, row in rows.items())


@pytest.mark.parametrize("turn", [0, 90, -90, 180])
def test_rotate_turns_a_hand_made_image_counter_clockwise_by_its_angle(turn):
    x = torch.arange(2 * 16, dtype=torch.uint8).view(2, 1, 4, 4)
    out = batches.rotate(x, torch.tensor([turn, 0.0]))
    assert out.dtype == torch.uint8 and out.shape == x.shape
    # 90: the top row becomes the left column
    assert torch.equal(out[0], torch.rot90(x[0], turn // 90, (1, 2)))
    assert torch.equal(out[1], x[1])  # each image its own angle: 0 leaves it as it was


def test_rotate_gives_torchvisions_random_rotation_pixel_for_pixel():
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import rotate
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8, generator=g)
    angles = batches.rotation_draws(g, (32,))
    assert angles.abs().max() <= 10 and angles.min() < -5 and angles.max() > 5
    ours = batches.rotate(x, angles)
    nearest = InterpolationMode.NEAREST
    theirs = torch.stack([rotate(img, float(a), nearest, fill=0) for img, a in zip(x, angles)])
    assert torch.equal(ours, theirs)
    assert (ours == 0).sum() > (x == 0).sum()  # the corners turned in are zeros


def test_rotate_crop_draws_angles_and_crops_within_the_recipe_once_per_seed_and_epoch():
    args = mnist_args("--augment", "rotate-crop")
    data = dict(train_x=torch.zeros(40, 1, 28, 28, dtype=torch.uint8), train_y=torch.arange(40))
    draws = batches.epoch_draws(args, data, torch.Generator().manual_seed(7), 4)
    again = batches.epoch_draws(args, data, torch.Generator().manual_seed(7), 4)
    other = batches.epoch_draws(args, data, torch.Generator().manual_seed(8), 4)
    assert equal(draws, **again) and not torch.equal(draws["angle"], other["angle"])
    # the draws in their order from the generator; the angles arrive bit for bit as integer rows
    g = torch.Generator().manual_seed(7)
    order = torch.randperm(40, generator=g)[:32].view(4, 8)
    dy, dx, _ = batches.crop_flip_draws(g, (4, 8), padding=4)
    assert equal(draws, order=order, dy=dy, dx=dx, angle=batches.rotation_draws(g, (4, 8)))
    assert draws["angle"].abs().max() <= 10 and draws["dy"].max() <= 8 and not draws["flip"].any()


@pytest.mark.parametrize("argv", [["--augment", "none"], ["--augment", "crop-flip"], []])
def test_the_other_recipes_draw_the_stream_they_drew_before_rotation_came(argv):
    # a run started before --augment resumes its epoch with the same order, crops, flips, partners
    args = mnist_args(*argv)
    data = dict(train_x=torch.zeros(40, 1, 28, 28, dtype=torch.uint8), train_y=torch.arange(40))
    draws = batches.epoch_draws(args, data, torch.Generator().manual_seed(7), 4)
    g = torch.Generator().manual_seed(7)
    order = torch.randperm(40, generator=g)[:32].view(4, 8)
    dy, dx, flip = batches.crop_flip_draws(g, (4, 8), padding=28 // 8)
    partner = torch.stack([torch.randperm(8, generator=g) for _ in range(4)])
    assert "angle" not in draws and equal(draws, order=order, dy=dy, dx=dx, partner=partner)
    assert torch.equal(draws["flip"], flip & (args.augment == "crop-flip"))


def test_rotate_crop_batches_are_uint8_windows_of_the_rotated_image_padded_by_4():
    args = mnist_args("--augment", "rotate-crop")
    x = torch.full((40, 1, 28, 28), 200, dtype=torch.uint8)
    x[:, :, 10:18, 10:18] = 7  # a hand-made digit: a square in the middle
    data = dict(train_x=x, train_y=torch.arange(40))
    draws = batches.epoch_draws(args, data, torch.Generator().manual_seed(0), 2)
    batch, labels, _ = next(batches.train_batches(args, data, draws, 2))
    assert batch.dtype == torch.uint8 and batch.shape == (8, 1, 28, 28)
    assert torch.equal(labels, draws["order"][0])
    assert set(batch.unique().tolist()) <= {0, 7, 200}  # the image's own pixels, or the zero fill
    turned = batches.rotate(x[labels], draws["angle"][0])
    crop = [draws[k][0] for k in ("dy", "dx", "flip")]
    assert torch.equal(batch, batches.random_crop_flip(turned, *crop, padding=4))
    draws["angle"].zero_()  # unturned: the crop alone, at (dy, dx) in the image zero-padded by 4
    batch, _, _ = next(batches.train_batches(args, data, draws, 1))
    padded = torch.nn.functional.pad(x[labels], (4, 4, 4, 4))
    for i, (dy, dx) in enumerate(zip(draws["dy"][0].tolist(), draws["dx"][0].tolist())):
        assert torch.equal(batch[i], padded[i, :, dy:dy + 28, dx:dx + 28])


def test_augment_auto_is_none_on_mnist_and_crop_flip_elsewhere_and_a_recipe_names_the_run():
    assert (mnist_args().augment, mnist_args().tag) == ("none", "fp32_bs8")
    assert mnist_args("--augment", "rotate-crop").tag == "fp32_rotate-crop_bs8"
    cifar = flags.resolve(flags.parse_args(["--dataset", "cifar10", "--device", "cpu"]))
    assert (cifar.augment, cifar.tag) == ("crop-flip", "fp32")
    assert (cifar.mixup, cifar.label_smoothing) == (0.2, 0.1)


def test_augment_is_refused_where_the_loader_augments(capsys):
    argv = ["--dataset", "imagenet", "--device", "cpu", "--augment", "rotate-crop"]
    with pytest.raises(SystemExit) as e:
        flags.resolve(flags.parse_args(argv))
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1, err
    assert err[0].startswith("error: --augment rotate-crop cannot apply to imagenet"), err


def test_a_rotate_crop_run_records_its_recipe_in_config_json(tmp_path):
    import train
    train.main(["--model", "lenet5_wide_max", "--dataset", "mnist", "--fake-data",
                "--augment", "rotate-crop", "--epochs", "1", "--steps-per-epoch", "2",
                "--batch-size", "8", "--device", "cpu", "--quiet", "--out", str(tmp_path)])
    run = tmp_path / "mnist" / "lenet5_wide_max" / "fp32_rotate-crop_bs8_s0"
    config = common.read_json(run / "config.json")
    assert config["augment"] == "rotate-crop" and config["model"] == "lenet5_wide_max"


class IndexImages(torch.utils.data.Dataset):
    """A streamed dataset whose image i is the tensor [i]: batches show which images a process
    loaded."""

    def __len__(self):
        return 40

    def __getitem__(self, i):
        return torch.tensor([i]), i % 3


def test_streamed_processes_load_only_their_share_of_each_batch_and_of_the_test_set():
    # under torchrun every process used to load the whole global batch and the whole validation set
    import train
    argv = ["--dataset", "imagenet", "--device", "cpu", "--batch-size", "8", "--workers", "0"]
    args = flags.resolve(flags.parse_args(argv))
    args.world_size = 2
    data = dict(train=IndexImages(), test=IndexImages(), streamed=True)
    draws = batches.epoch_draws(args, data, torch.Generator().manual_seed(0), 3)
    for rank in (0, 1):
        shard = batches.train_batches(args, data, draws, 3, rank, 2)
        loaded = [x.flatten().tolist() for x, _, partner in shard]
        assert loaded == draws["order"][:, rank::2].tolist()
    assert draws["partner"].shape == (3, 4)  # mixup partners within each process's share of 4
    shares = [
        torch.cat([x for x, _ in batches.test_batches(args, data, 16, rank, 2)]).flatten()
        for rank in (0, 1)
    ]
    assert (len(shares[0]) == len(shares[1]) == 20
            and sorted(torch.cat(shares).tolist()) == list(range(40)))


# ----------------------------------------------------------------------------- MNIST's IDX files

IMAGES, LABELS = b"\x00\x00\x08\x03", b"\x00\x00\x08\x01"  # 0, 0, type 0x08 (ubyte), dimensions
MNIST_FILES = {"train-images-idx3-ubyte": IMAGES, "train-labels-idx1-ubyte": LABELS,
               "t10k-images-idx3-ubyte": IMAGES, "t10k-labels-idx1-ubyte": LABELS}


def idx_bytes(magic, array):
    """An IDX file by hand: the magic, each size as a big-endian uint32, the values row-major."""
    sizes = b"".join(n.to_bytes(4, "big") for n in array.shape)
    return magic + sizes + array.astype(np.uint8).tobytes()


def mnist_arrays(n_train=5, n_test=2):
    """Pixel (r, c) of image i: (7 (784 i + 28 r + c) + first) mod 256; labels 0, 1, .. and 9, 8."""
    images = lambda n, first: (np.arange(n * 28 * 28).reshape(n, 28, 28) * 7 + first) % 256
    return {"train-images-idx3-ubyte": images(n_train, 0),
            "train-labels-idx1-ubyte": np.arange(n_train) % 10,
            "t10k-images-idx3-ubyte": images(n_test, 3),
            "t10k-labels-idx1-ubyte": (9 - np.arange(n_test)) % 10}


def write_mnist(root, plain=(), override=None):
    """MNIST/raw/<name>.gz as torchvision's downloader leaves them (the names in `plain`
    uncompressed); override maps a name to the bytes to write instead. Returns the arrays."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    arrays = mnist_arrays()
    for name, magic in MNIST_FILES.items():
        data = (override or {}).get(name, idx_bytes(magic, arrays[name]))
        if name in plain:
            (raw / name).write_bytes(data)
        else:
            (raw / (name + ".gz")).write_bytes(gzip.compress(data))
    return arrays


@pytest.mark.parametrize("plain", [(), ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")])
def test_mnist_idx_files_read_back_exactly(tmp_path, plain):
    arrays = write_mnist(tmp_path, plain=plain)
    header = gzip.decompress((tmp_path / "MNIST/raw/train-images-idx3-ubyte.gz").read_bytes())[:16]
    assert header == bytes.fromhex("00000803" "00000005" "0000001c" "0000001c")  # 2051; 5 x 28 x 28
    data = datasets.load_dataset("mnist", tmp_path)
    assert data["train_x"].shape == (5, 1, 28, 28) and data["test_x"].shape == (2, 1, 28, 28)
    assert data["train_x"].dtype == torch.uint8 and data["train_y"].dtype == torch.int64
    assert data["train_x"][0, 0, 0, :4].tolist() == [0, 7, 14, 21]
    assert data["train_x"][1, 0, 0, 0] == 7 * 784 % 256 == 112
    assert data["test_x"][0, 0, 27, 27] == (7 * 783 + 3) % 256 == 108
    for split, name in (("train_x", "train-images-idx3-ubyte"),
                        ("test_x", "t10k-images-idx3-ubyte")):
        assert torch.equal(data[split][:, 0], torch.from_numpy(arrays[name].astype(np.uint8)))
    assert data["train_y"].tolist() == [0, 1, 2, 3, 4] and data["test_y"].tolist() == [9, 8]
    assert data["num_classes"] == 10 and data["classes"] == [str(i) for i in range(10)]


def cut(name, keep):
    """The IDX bytes of mnist_arrays' file `name` up to the first `keep`."""
    return idx_bytes(MNIST_FILES[name], mnist_arrays()[name])[:keep]


@pytest.mark.parametrize("override,words", [
    # a download cut short: the gzip stream itself ends early
    ({}, ["train-images-idx3-ubyte.gz", "corrupt or unreadable", "end-of-stream"]),
    # whole gzip streams of files that end early: in the last image, in the header, at once
    ({"train-images-idx3-ubyte": cut("train-images-idx3-ubyte", 3900)},
     ["train-images-idx3-ubyte.gz holds 3,900 bytes where its header (5x28x28) needs 3,936",
      "truncated"]),
    ({"train-labels-idx1-ubyte": cut("train-labels-idx1-ubyte", 6)},
     ["holds 6 bytes", "truncated"]),
    ({"train-labels-idx1-ubyte": b""},
     ["not an IDX file of 1-D unsigned bytes (magic none, expected 00000801)"]),
    # images where the labels belong; five labels as 32-bit integers (type 0x0c)
    ({"train-labels-idx1-ubyte": idx_bytes(IMAGES, np.zeros((5, 28, 28)))},
     ["train-labels-idx1-ubyte.gz is not an IDX file of 1-D",
      "(magic 00000803, expected 00000801)"]),
    ({"train-labels-idx1-ubyte": b"\x00\x00\x0c\x01" + (5).to_bytes(4, "big") + bytes(20)},
     ["magic 00000c01"]),
    ({"t10k-labels-idx1-ubyte": idx_bytes(LABELS, np.zeros(3))},
     ["t10k files", "disagree: 2 images, 3 labels"]),
], ids=[
    "gzip-cut", "image-cut", "header-cut", "empty", "images-as-labels", "int32-labels", "counts",
])
def test_a_damaged_mnist_file_is_one_clear_error(tmp_path, capsys, override, words):
    write_mnist(tmp_path, override=override)
    if not override:
        path = tmp_path / "MNIST/raw/train-images-idx3-ubyte.gz"
        path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(SystemExit) as e:
        datasets.load_mnist(tmp_path)
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1 and err[0].startswith("error: "), err
    assert all(w in err[0] for w in words), err
