"""The datasets, each read from its files on disk and decoded once into uint8 tensors (ImageNet
streamed), their registry DATASETS, the stand-in of --fake-data (FAKE_SHAPES) and the statistics
that normalize them (per channel or per pixel)."""
import hashlib
import math
import pickle
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import downloads
from common import fail, save_checkpoint

# (classes, image size, channels) of each dataset of known shape: --fake-data makes images of it
FAKE_SHAPES = {"cifar10": (10, 32, 3), "cifar100": (100, 32, 3), "tiny-imagenet": (200, 64, 3),
               "synthetic": (10, 16, 3), "mnist": (10, 28, 1)}


# ----------------------------------------------------------------------------- datasets
# Every in-memory dataset is a dict: train_x/test_x uint8 (N, C, H, W), train_y/test_y
# int64 (N,), num_classes, classes. DATASETS maps a name to its loader(data_dir, seed).

# the python release's
CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


def _cifar_dir(data_dir, name):
    folder = CIFAR_FOLDERS[name]
    archive = {"cifar10": "cifar-10-python.tar.gz", "cifar100": "cifar-100-python.tar.gz"}[name]
    root = Path(data_dir)
    present = (root / folder).is_dir
    first = "data_batch_1" if name == "cifar10" else "train"
    if not present() and (root / first).is_file():  # --data-dir names the release's folder itself
        fail(f"{name} not found in {root / folder}, but its files are in {root} itself: "
             f"--data-dir D looks for them in D/{folder}")
    if not present() or downloads.downloading(root):
        from torchvision import datasets as tv
        cls = tv.CIFAR10 if name == "cifar10" else tv.CIFAR100
        # torchvision's downloader checks the md5 and skips the download when the archive is there
        error = downloads.fetch(name, lambda: cls(str(root), train=True, download=True),
                                [root], present)
        if error:  # offline, no space, bad archive: one line, not a traceback
            fail(f"{name} not found in {root / folder} and could not be fetched ({error}); "
                 f"put {archive} (the python version) in {root} and run again")
    return root / folder


def _read_pickle(path):
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as e:
        fail(f"corrupt or unreadable dataset file {path} ({e}); delete it and fetch it again")


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
# the release's fine_label_names, in its (alphabetical) order
CIFAR100_CLASSES = """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy
    bridge bus butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach
    couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house
    kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain
    mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate
    poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper
    snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television
    tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()
RELEASE_CLASSES = {"cifar10": CIFAR10_CLASSES, "cifar100": CIFAR100_CLASSES}


def _cifar_from_images(data_dir, name):
    """CIFAR as image files, DATA_DIR/train/<class>/* and DATA_DIR/test/<class>/* (JPEG or PNG
    copies of the release): class folders named as the release's labels or numbered 0..N-1, taken
    in the release's order."""
    data = load_imagefolder(data_dir)
    release = RELEASE_CLASSES[name]
    names = [c.lower() for c in data["classes"]]
    # the folders' sorted order is the label order: it must be the release's
    if names != release and names != [str(i) for i in range(len(release))]:
        fail(f"{data_dir}/train holds {len(names)} class folders "
             f"({', '.join(data['classes'][:4])}, ...), not {name}'s {len(release)} "
             f"({', '.join(release[:4])}, ... in this order) or 0..{len(release) - 1}")
    if tuple(data["train_x"].shape[-2:]) != (32, 32):
        fail(f"{data_dir} holds {data['train_x'].shape[-1]} px images; {name} images are 32 x 32")
    return dict(data, format="images")


def load_cifar(data_dir, name):
    """The python-pickle release (fetched by torchvision when missing), or its image-folder copy."""
    if (Path(data_dir) / "train").is_dir() and not (Path(data_dir) / CIFAR_FOLDERS[name]).is_dir():
        return _cifar_from_images(data_dir, name)
    root = _cifar_dir(data_dir, name)
    if name == "cifar10":
        train_files, test_files, key = (
            [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], "labels")
        meta = _read_pickle(root / "batches.meta")["label_names"]
    else:
        train_files, test_files, key = ["train"], ["test"], "fine_labels"
        meta = _read_pickle(root / "meta")["fine_label_names"]

    def read(files):
        batches = [_read_pickle(root / f) for f in files]
        try:
            x = np.concatenate([np.asarray(b["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
                                for b in batches])
            y = np.concatenate([np.asarray(b[key], dtype=np.int64) for b in batches])
        except (KeyError, ValueError) as e:
            fail(f"corrupt dataset file in {root} ({e}); delete the folder and fetch it again")
        return torch.from_numpy(x), torch.from_numpy(y)

    train_x, train_y = read(train_files)
    test_x, test_y = read(test_files)
    return dict(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y,
                num_classes=len(meta), classes=list(meta), format="pickles")


IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".JPEG", ".JPG", ".PNG"}


def _decode_images(paths, size=None):
    """Decode image files to one uint8 (N, 3, H, W) tensor, resized to `size` (H, W) when given,
    else to the first image's size when sizes differ."""
    from PIL import Image, UnidentifiedImageError
    images = []
    for p in paths:
        try:
            with Image.open(p) as img:
                img = img.convert("RGB")
                size = size or (img.height, img.width)
                if (img.height, img.width) != size:
                    img = img.resize((size[1], size[0]), Image.BILINEAR)
                images.append(np.asarray(img))
        except (OSError, UnidentifiedImageError) as e:
            fail(f"cannot decode image {p} ({e}); remove or replace it")
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(), size


def _cached(cache_path, signature, build):
    """Load `build()`'s tensors from cache_path when its signature matches, else build and save
    (the cache is skipped with a note when the data folder is read-only)."""
    if cache_path.exists():
        try:
            cached = torch.load(cache_path, weights_only=True)
            if cached.get("signature") == signature:
                return cached
        except Exception:
            pass  # a stale or corrupt cache is rebuilt
    data = build()
    data["signature"] = signature
    try:
        save_checkpoint(cache_path, data)
    except OSError as e:
        print(f"note: could not write the decoded-image cache {cache_path} ({e.strerror}); "
              "decoding again next time", file=sys.stderr)
    return data


def _folder_signature(root, files):
    """Every (file, label)'s path, size and label: a file added, removed, moved to another class
    or relabelled (Tiny-ImageNet's annotations) makes the cache stale."""
    digest = hashlib.sha256()
    for path, label in files:
        digest.update(f"{path.relative_to(root)}\t{path.stat().st_size}\t{label}\n".encode())
    return [len(files), digest.hexdigest()]


def load_imagefolder(data_dir, seed=0):
    """DATA_DIR/train/<class>/* and DATA_DIR/test/<class>/* (or val/); decoded once, cached."""
    root = Path(data_dir)
    test_name = "test" if (root / "test").is_dir() else "val"
    if not (root / "train").is_dir() or not (root / test_name).is_dir():
        fail(f"no image folders in {root}: expected {root}/train/<class>/* and "
             f"{root}/test/<class>/* (or val/)")
    # class folders 0..99 in numeric order
    classes = sorted((d.name for d in (root / "train").iterdir() if d.is_dir()),
                     key=lambda c: (0, int(c), "") if c.isdigit() else (1, 0, c))
    if not classes:
        fail(f"{root}/train has no class folders")
    index = {c: i for i, c in enumerate(classes)}

    def listing(split):
        folders = sorted(c for c in (root / split).iterdir() if c.is_dir())
        unknown = [c.name for c in folders if c.name not in index]
        if unknown:  # their images would be left out of the test set without a word
            fail(f"{root / split} has class folders that {root}/train lacks: "
                 f"{', '.join(unknown[:4])}{', ...' if len(unknown) > 4 else ''}")
        files = [(f, index[c.name]) for c in folders
                 for f in sorted(c.iterdir()) if f.suffix in IMAGE_EXTENSIONS]
        if not files:
            fail(f"{root / split} has no images in class folders")
        return files

    train_files, test_files = listing("train"), listing(test_name)

    def build():
        train_x, size = _decode_images([f for f, _ in train_files])
        test_x, _ = _decode_images([f for f, _ in test_files], size)
        return dict(train_x=train_x, train_y=torch.tensor([y for _, y in train_files]),
                    test_x=test_x, test_y=torch.tensor([y for _, y in test_files]))

    signature = _folder_signature(root, train_files + test_files)
    data = _cached(root / ".decoded-uint8.pt", signature, build)
    return dict(data, num_classes=len(classes), classes=classes)


def load_tiny_imagenet(data_dir, seed=0):
    """The standard tiny-imagenet-200 layout: train/<wnid>/images/*.JPEG, val/images/* with
    val/val_annotations.txt (the labelled validation set serves as the test set)."""
    root = Path(data_dir)
    if not (root / "wnids.txt").exists():
        root = root / "tiny-imagenet-200"
    if not (root / "wnids.txt").exists():
        fail(f"tiny-imagenet not found: expected {Path(data_dir) / 'tiny-imagenet-200'}/wnids.txt; "
             "download tiny-imagenet-200.zip from cs231n.stanford.edu and unzip it there")
    classes = (root / "wnids.txt").read_text().split()
    index = {c: i for i, c in enumerate(classes)}
    train_files = [(f, index[c]) for c in classes
                   for f in sorted((root / "train" / c / "images").glob("*"))
                   if f.suffix in IMAGE_EXTENSIONS]
    try:
        annotations = (root / "val" / "val_annotations.txt").read_text()
        rows = [line.split("\t") for line in annotations.splitlines() if line]
        test_files = [(root / "val" / "images" / r[0], index[r[1]]) for r in rows]
    except (OSError, IndexError, KeyError) as e:
        fail(f"corrupt or missing {root}/val/val_annotations.txt ({e})")
    if not train_files or not test_files:
        fail(f"tiny-imagenet in {root} has no images")

    def build():
        train_x, size = _decode_images([f for f, _ in train_files], (64, 64))
        test_x, _ = _decode_images([f for f, _ in test_files], size)
        return dict(train_x=train_x, train_y=torch.tensor([y for _, y in train_files]),
                    test_x=test_x, test_y=torch.tensor([y for _, y in test_files]))

    signature = _folder_signature(root, train_files + test_files)
    data = _cached(root / ".decoded-uint8.pt", signature, build)
    return dict(data, num_classes=len(classes), classes=classes)


def load_synthetic(data_dir=None, seed=0,
                   num_classes=10, size=16, n_train=2048, n_test=512, channels=3):
    """A small learnable dataset: each class is a smooth random colour pattern, each image that
    pattern shifted by a few pixels, scaled in contrast and buried in noise.
    Deterministic in seed."""
    g = torch.Generator().manual_seed(seed)
    templates = F.interpolate(torch.randn(num_classes, channels, 4, 4, generator=g),
                              size=(size, size), mode="bicubic", align_corners=False)

    def draw(n):
        y = torch.arange(n) % num_classes
        y = y[torch.randperm(n, generator=g)]
        shifts = torch.randint(-2, 3, (n, 2), generator=g)
        x = torch.stack([templates[c].roll((int(s[0]), int(s[1])), dims=(1, 2))
                         for c, s in zip(y, shifts)])
        x = (x * (0.5 + torch.rand(n, 1, 1, 1, generator=g))
             + 0.8 * torch.randn(x.shape, generator=g))
        return (x * 40 + 128).round().clamp(0, 255).to(torch.uint8), y

    train_x, train_y = draw(n_train)
    test_x, test_y = draw(n_test)
    return dict(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y,
                num_classes=num_classes, classes=[f"class{i}" for i in range(num_classes)])


def _read_idx(path, dims):
    """An IDX file (MNIST's format, optionally gzipped) of unsigned bytes in `dims` dimensions as a
    numpy array; a file cut short, with bytes to spare or of another type is one clear error."""
    import gzip
    import zlib
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:  # EOFError: a gzip stream cut short
        fail(f"corrupt or unreadable dataset file {path} ({e}); delete it and fetch it again")
    magic = bytes([0, 0, 0x08, dims])  # 0, 0, the type (0x08: unsigned byte), the dimensions
    if raw[:4] != magic:
        fail(f"{path} is not an IDX file of {dims}-D unsigned bytes (magic "
             f"{raw[:4].hex() or 'none'}, expected {magic.hex()}); delete it and fetch it again")
    header = 4 + 4 * dims
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    size = header + math.prod(shape)
    if len(raw) != size:  # a header cut short fails here too
        fail(f"{path} holds {len(raw):,} bytes where its header ({'x'.join(map(str, shape))}) "
             f"needs {size:,}: truncated or damaged; delete it and fetch it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist(data_dir, seed=0):
    """MNIST's IDX files in DATA_DIR/MNIST/raw (torchvision's layout, fetched by its downloader)."""
    raw = Path(data_dir) / "MNIST" / "raw"
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    find = lambda n: next((p for p in (raw / n, raw / (n + ".gz")) if p.exists()), None)
    present = lambda: all(find(n) is not None for n in names)
    if not present():
        for elsewhere in (Path(data_dir) / "raw", Path(data_dir)):  # --data-dir one level too deep
            if any((elsewhere / (names[0] + ext)).is_file() for ext in ("", ".gz")):
                fail(f"mnist not found in {raw}, but its files are in {elsewhere}: "
                     "--data-dir D looks for them in D/MNIST/raw")
    if not present() or downloads.downloading(data_dir):
        from torchvision import datasets as tv
        error = downloads.fetch("mnist", lambda: tv.MNIST(str(data_dir), train=True, download=True),
                       [Path(data_dir), Path(data_dir) / "MNIST", raw], present)
        if error:
            fail(f"mnist not found in {raw} and could not be fetched ({error}); "
                 f"put {', '.join(n + '.gz' for n in names)} in {raw} and run again")
    arrays = [_read_idx(find(n), 1 if "labels" in n else 3) for n in names]
    train_x, train_y, test_x, test_y = (
        torch.from_numpy(a.astype(np.int64 if a.ndim == 1 else np.uint8)) for a in arrays)
    for images, labels, split in ((train_x, train_y, "train"), (test_x, test_y, "t10k")):
        if len(images) != len(labels):
            fail(f"mnist's {split} files in {raw} disagree: {len(images):,} images, "
                 f"{len(labels):,} labels; delete them and fetch them again")
    return dict(train_x=train_x[:, None], train_y=train_y, test_x=test_x[:, None], test_y=test_y,
                num_classes=10, classes=[str(i) for i in range(10)])


def load_imagenet(data_dir, seed=0):
    """ILSVRC-2012 as DATA_DIR/train/<wnid>/*.JPEG and DATA_DIR/val/<wnid>/*.JPEG, streamed from
    disk by DataLoader workers (it does not fit in memory): RandomResizedCrop 224 and flip for
    training, resize 256 and centre crop 224 for evaluation."""
    from torchvision import datasets as tv, transforms
    root = Path(data_dir)
    if not (root / "train").is_dir() or not (root / "val").is_dir():
        fail(f"imagenet not found: expected {root}/train/<wnid>/*.JPEG and "
             f"{root}/val/<wnid>/*.JPEG "
             "(the ILSVRC-2012 archives, with val sorted into class folders)")
    to_uint8 = transforms.PILToTensor()
    try:
        train = tv.ImageFolder(root / "train", transforms.Compose(
            [transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), to_uint8]))
        test = tv.ImageFolder(root / "val", transforms.Compose(
            [transforms.Resize(256), transforms.CenterCrop(224), to_uint8]))
    except FileNotFoundError as e:  # no class folders, or one without images
        fail(f"imagenet in {root}: {e}")
    if test.classes != train.classes:  # each folder numbers its own classes: they must agree
        lacks, extra = (sorted(set(a) - set(b)) for a, b in ((train.classes, test.classes),
                                                             (test.classes, train.classes)))
        fail(f"{root}/val's class folders are not train/'s: val lacks {len(lacks)} "
             f"({', '.join(lacks[:3])}) and adds {len(extra)} ({', '.join(extra[:3])}); "
             "sort val into train's <wnid> folders")
    return dict(train=train, test=test, num_classes=len(train.classes), classes=train.classes,
                streamed=True,
                mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
                std=[0.229 * 255, 0.224 * 255, 0.225 * 255])


DATASETS = {
    "cifar10": lambda data_dir, seed: load_cifar(data_dir, "cifar10"),
    "cifar100": lambda data_dir, seed: load_cifar(data_dir, "cifar100"),
    "tiny-imagenet": load_tiny_imagenet,
    "imagefolder": load_imagefolder,
    "synthetic": load_synthetic,
    "mnist": load_mnist,
    "imagenet": load_imagenet,
}


def load_dataset(name, data_dir, seed=0):
    if name not in DATASETS:
        fail(f"unknown dataset '{name}'; choose one of: {', '.join(DATASETS)}")
    data = DATASETS[name](data_dir, seed)
    if data.get("streamed"):
        return data
    data["mean"], data["std"] = channel_stats(data["train_x"])
    return data


NORM_SAMPLE = 10_000  # training images the normalization statistics are taken from


def channel_stats(train_x, sample=NORM_SAMPLE):
    """Per-channel mean and std of the training images, for normalization on the device, from
    `sample` images spread evenly over the set (every k-th where k divides it): folder listings
    are class-major, so the first 10,000 would be the first classes only. Counted from the uint8
    values in float64, so that the same images give the same numbers on every machine."""
    n = len(train_x)
    x = train_x[torch.arange(min(n, sample)) * n // min(n, sample)].cpu()
    levels, mean, std = torch.arange(256, dtype=torch.float64), [], []
    for c in range(x.shape[1]):
        counts = torch.bincount(x[:, c].flatten(), minlength=256).double()
        m = float((counts * levels).sum() / counts.sum())
        var = float((counts * (levels - m) ** 2).sum() / (counts.sum() - 1))
        mean.append(m)
        std.append(max(var ** 0.5, 1.0))  # a constant channel is left unscaled, not divided by zero
    return mean, std


def pixel_stats(train_x):
    """The TTQ authors' normalization (tensorpack's CIFAR example): (x - per-pixel mean) / 128 - 1,
    as the mean (per-pixel mean + 128, C x H x W) and std (128 per channel) of normalize. The mean
    is over every training image, in float64."""
    total = torch.zeros(train_x.shape[1:], dtype=torch.float64)
    for chunk in train_x.cpu().split(4096):
        total += chunk.double().sum(0)
    return (total / len(train_x) + 128).tolist(), [128.0] * train_x.shape[1]
