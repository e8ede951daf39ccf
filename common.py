"""Shared helpers: datasets (decoded once into uint8 tensors), batched on-device
augmentation, seeding, atomic file I/O, user-facing errors and the statistics
used by the analysis scripts.

It holds no model, quantizer or training-loop code (see models.py, quant.py,
train.py). The statistics at the bottom need only numpy and the standard library.
"""
import json
import math
import os
import pickle
import sys
from pathlib import Path

import numpy as np


# ----------------------------------------------------------------------------- errors

def fail(message):
    """Stop with one clear line and exit code 2: for errors a user can cause."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


# ----------------------------------------------------------------------------- file I/O

def write_atomic(path, write_fn):
    """Write via a temporary file in the same folder and rename, so a crash never
    leaves a truncated file under the real name."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path, obj):
    write_atomic(path, lambda f: f.write((json.dumps(obj, indent=2, default=str) + "\n").encode()))


def read_json(path):
    """The parsed file, or None when it is missing or not valid JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def save_checkpoint(path, obj):
    import torch
    write_atomic(path, lambda f: torch.save(obj, f))


def load_checkpoint(path):
    """torch.load restricted to tensors and plain containers (no arbitrary pickles)."""
    import torch
    return torch.load(path, map_location="cpu", weights_only=True)


# ----------------------------------------------------------------------------- seeding

def seed_everything(seed):
    import random
    import torch
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------- datasets
# Every in-memory dataset is a dict: train_x/test_x uint8 (N, C, H, W), train_y/test_y
# int64 (N,), num_classes, classes. DATASETS maps a name to its loader(data_dir, seed).

CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}  # the python release's


def _cifar_dir(data_dir, name):
    folder = CIFAR_FOLDERS[name]
    archive = {"cifar10": "cifar-10-python.tar.gz", "cifar100": "cifar-100-python.tar.gz"}[name]
    root = Path(data_dir)
    if not (root / folder).is_dir():
        try:  # torchvision's downloader checks the md5 and skips the download when the archive is already there
            from torchvision import datasets
            cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
            cls(str(root), train=True, download=True)
        except Exception as e:  # offline, no space, bad archive: one line, not a traceback
            fail(f"{name} not found in {root / folder} and could not be fetched ({type(e).__name__}); "
                 f"put {archive} (the python version) in {root} and run again")
    return root / folder


def _read_pickle(path):
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as e:
        fail(f"corrupt or unreadable dataset file {path} ({e}); delete it and fetch it again")


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _cifar_from_images(data_dir, name):
    """CIFAR as image files, DATA_DIR/train/<class>/* and DATA_DIR/test/<class>/* (JPEG or PNG copies of the
    release): class folders named as the release's labels or numbered 0..N-1, taken in the release's order."""
    data = load_imagefolder(data_dir)
    count = 10 if name == "cifar10" else 100
    names = [c.lower() for c in data["classes"]]
    if len(names) != count or (name == "cifar10" and names != CIFAR10_CLASSES and
                               names != [str(i) for i in range(10)]):
        fail(f"{data_dir}/train holds {len(names)} class folders ({', '.join(data['classes'][:4])}, ...), not "
             f"{name}'s {count}" + (f" ({', '.join(CIFAR10_CLASSES)})" if name == "cifar10" else ""))
    if tuple(data["train_x"].shape[-2:]) != (32, 32):
        fail(f"{data_dir} holds {data['train_x'].shape[-1]} px images; {name} images are 32 x 32")
    return dict(data, format="images")


def load_cifar(data_dir, name):
    """The python-pickle release (fetched by torchvision when missing), or an image-folder copy of it."""
    import torch
    if (Path(data_dir) / "train").is_dir() and not (Path(data_dir) / CIFAR_FOLDERS[name]).is_dir():
        return _cifar_from_images(data_dir, name)
    root = _cifar_dir(data_dir, name)
    if name == "cifar10":
        train_files, test_files, key = [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], "labels"
        meta = _read_pickle(root / "batches.meta")["label_names"]
    else:
        train_files, test_files, key = ["train"], ["test"], "fine_labels"
        meta = _read_pickle(root / "meta")["fine_label_names"]

    def read(files):
        batches = [_read_pickle(root / f) for f in files]
        try:
            x = np.concatenate([np.asarray(b["data"], dtype=np.uint8).reshape(-1, 3, 32, 32) for b in batches])
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
    import torch
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
    import torch
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


def _folder_signature(files):
    return [len(files), sum(f.stat().st_size for f in files), str(files[0]), str(files[-1])]


def load_imagefolder(data_dir, seed=0):
    """DATA_DIR/train/<class>/* and DATA_DIR/test/<class>/* (or val/); decoded once, cached."""
    import torch
    root = Path(data_dir)
    test_name = "test" if (root / "test").is_dir() else "val"
    if not (root / "train").is_dir() or not (root / test_name).is_dir():
        fail(f"no image folders in {root}: expected {root}/train/<class>/* and {root}/test/<class>/* (or val/)")
    classes = sorted((d.name for d in (root / "train").iterdir() if d.is_dir()),
                     key=lambda c: (0, int(c), "") if c.isdigit() else (1, 0, c))  # 0..99 in numeric order
    if not classes:
        fail(f"{root}/train has no class folders")
    index = {c: i for i, c in enumerate(classes)}

    def listing(split):
        files = [(f, index[c.name]) for c in sorted((root / split).iterdir()) if c.is_dir() and c.name in index
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

    signature = _folder_signature([f for f, _ in train_files + test_files])
    data = _cached(root / ".decoded-uint8.pt", signature, build)
    return dict(data, num_classes=len(classes), classes=classes)


def load_tiny_imagenet(data_dir, seed=0):
    """The standard tiny-imagenet-200 layout: train/<wnid>/images/*.JPEG, val/images/* with
    val/val_annotations.txt (the labelled validation set serves as the test set)."""
    import torch
    root = Path(data_dir)
    if not (root / "wnids.txt").exists():
        root = root / "tiny-imagenet-200"
    if not (root / "wnids.txt").exists():
        fail(f"tiny-imagenet not found: expected {Path(data_dir) / 'tiny-imagenet-200'}/wnids.txt; "
             "download tiny-imagenet-200.zip from cs231n.stanford.edu and unzip it there")
    classes = (root / "wnids.txt").read_text().split()
    index = {c: i for i, c in enumerate(classes)}
    train_files = [(f, index[c]) for c in classes
                   for f in sorted((root / "train" / c / "images").glob("*")) if f.suffix in IMAGE_EXTENSIONS]
    try:
        rows = [line.split("\t") for line in (root / "val" / "val_annotations.txt").read_text().splitlines() if line]
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

    data = _cached(root / ".decoded-uint8.pt", _folder_signature([f for f, _ in train_files + test_files]), build)
    return dict(data, num_classes=len(classes), classes=classes)


def load_synthetic(data_dir=None, seed=0, num_classes=10, size=16, n_train=2048, n_test=512, channels=3):
    """A small learnable dataset: each class is a smooth random colour pattern, each image that
    pattern shifted by a few pixels, scaled in contrast and buried in noise. Deterministic in seed."""
    import torch
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(seed)
    templates = F.interpolate(torch.randn(num_classes, channels, 4, 4, generator=g), size=(size, size),
                              mode="bicubic", align_corners=False)

    def draw(n):
        y = torch.arange(n) % num_classes
        y = y[torch.randperm(n, generator=g)]
        shifts = torch.randint(-2, 3, (n, 2), generator=g)
        x = torch.stack([templates[c].roll((int(s[0]), int(s[1])), dims=(1, 2)) for c, s in zip(y, shifts)])
        x = x * (0.5 + torch.rand(n, 1, 1, 1, generator=g)) + 0.8 * torch.randn(x.shape, generator=g)
        return (x * 40 + 128).round().clamp(0, 255).to(torch.uint8), y

    train_x, train_y = draw(n_train)
    test_x, test_y = draw(n_test)
    return dict(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y,
                num_classes=num_classes, classes=[f"class{i}" for i in range(num_classes)])


def _read_idx(path):
    """An IDX file (MNIST's format, optionally gzipped) as a numpy array."""
    import gzip
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
        dims = raw[3]
        shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
        return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
    except (OSError, ValueError, IndexError) as e:
        fail(f"corrupt or unreadable dataset file {path} ({e}); delete it and fetch it again")


def load_mnist(data_dir, seed=0):
    """MNIST's IDX files in DATA_DIR/MNIST/raw (torchvision's layout, fetched by its downloader)."""
    import torch
    raw = Path(data_dir) / "MNIST" / "raw"
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    find = lambda n: next((p for p in (raw / n, raw / (n + ".gz")) if p.exists()), None)
    if any(find(n) is None for n in names):
        try:
            from torchvision import datasets
            datasets.MNIST(str(data_dir), train=True, download=True)
        except Exception as e:
            fail(f"mnist not found in {raw} and could not be fetched ({type(e).__name__}); "
                 f"put {', '.join(n + '.gz' for n in names)} in {raw} and run again")
    train_x, train_y, test_x, test_y = (torch.from_numpy(_read_idx(find(n)).astype(np.int64 if "labels" in n else np.uint8))
                                        for n in names)
    return dict(train_x=train_x[:, None], train_y=train_y, test_x=test_x[:, None], test_y=test_y,
                num_classes=10, classes=[str(i) for i in range(10)])


def load_imagenet(data_dir, seed=0):
    """ILSVRC-2012 as DATA_DIR/train/<wnid>/*.JPEG and DATA_DIR/val/<wnid>/*.JPEG, streamed from disk
    by DataLoader workers (it does not fit in memory): RandomResizedCrop 224 and flip for training,
    resize 256 and centre crop 224 for evaluation."""
    from torchvision import datasets, transforms
    root = Path(data_dir)
    if not (root / "train").is_dir() or not (root / "val").is_dir():
        fail(f"imagenet not found: expected {root}/train/<wnid>/*.JPEG and {root}/val/<wnid>/*.JPEG "
             "(the ILSVRC-2012 archives, with val sorted into class folders)")
    to_uint8 = transforms.PILToTensor()
    train = datasets.ImageFolder(root / "train", transforms.Compose(
        [transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), to_uint8]))
    test = datasets.ImageFolder(root / "val", transforms.Compose(
        [transforms.Resize(256), transforms.CenterCrop(224), to_uint8]))
    return dict(train=train, test=test, num_classes=len(train.classes), classes=train.classes, streamed=True,
                mean=[0.485 * 255, 0.456 * 255, 0.406 * 255], std=[0.229 * 255, 0.224 * 255, 0.225 * 255])


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
    # per-channel statistics of the training images, for normalization on the device
    x = data["train_x"][:10000].float()
    data["mean"] = x.mean(dim=(0, 2, 3)).tolist()
    data["std"] = x.std(dim=(0, 2, 3)).clamp_min(1.0).tolist()
    return data


# ----------------------------------------------------------------------------- augmentation
# Batched tensor ops on the training device. The draws come from a torch.Generator on the CPU, made for a whole
# epoch at once, so they are the same on every device, restart exactly after a resume and cost one transfer.

def crop_flip_draws(g, shape, padding):
    """Crop offsets dy, dx in [0, 2 * padding] and horizontal-flip flags for images of `shape` (e.g. steps x batch)."""
    import torch
    offsets = torch.randint(0, 2 * padding + 1, (2, *shape), generator=g)
    return offsets[0], offsets[1], torch.rand(shape, generator=g) < 0.5


def random_crop_flip(x, dy, dx, flip, padding):
    """Crop each image at (dy, dx) from its zero-padded version, then flip it horizontally where flip is set."""
    import torch
    import torch.nn.functional as F
    n, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = dx[:, None] + torch.arange(w, device=x.device)
    cols = torch.where(flip[:, None], cols.flip(1), cols)[:, None, None, :]
    return padded[torch.arange(n, device=x.device)[:, None, None, None],
                  torch.arange(x.shape[1], device=x.device)[None, :, None, None], rows, cols]


def normalize(x_uint8, mean, std, dtype):
    """uint8 images to normalized floats; mean and std as lists, or tensors already on the device (no copy)."""
    import torch
    mean = torch.as_tensor(mean, dtype=dtype, device=x_uint8.device).view(1, -1, 1, 1)
    std = torch.as_tensor(std, dtype=dtype, device=x_uint8.device).view(1, -1, 1, 1)
    return (x_uint8.to(dtype) - mean) / std


# ----------------------------------------------------------------------------- statistics
# numpy and math only (no scipy): mean, sample std, Student-t quantiles and Welch's test.

def mean_std(values):
    """Mean and sample standard deviation (ddof=1; 0 for a single value)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def _betacf(a, b, x):
    # continued fraction of the incomplete beta function (modified Lentz)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def betainc(a, b, x):
    """Regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    """Student-t cumulative distribution function."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p, df):
    """Inverse of t_cdf by bisection (monotone; the bracket covers p in [1e-9, 1 - 1e-9] for df >= 1)."""
    lo, hi = -1e9, 1e9
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if t_cdf(mid, df) < p else (lo, mid)
    return 0.5 * (lo + hi)


def t_interval(values, confidence=0.95):
    """Two-sided confidence interval of the mean: mean -+ t_{(1+c)/2, n-1} * s / sqrt(n).
    A single value gives (nan, nan)."""
    n = len(values)
    m, s = mean_std(values)
    if n < 2:
        return float("nan"), float("nan")
    half = t_quantile(0.5 + confidence / 2, n - 1) * s / math.sqrt(n)
    return m - half, m + half


def welch_t_test(a, b):
    """Welch's unequal-variance t-test: (t, df, two-sided p). Needs two values per group."""
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan"), float("nan")
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    va, vb = sa ** 2 / len(a), sb ** 2 / len(b)
    if va + vb == 0:
        return float("nan"), float("nan"), float("nan")
    t = (ma - mb) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    p = betainc(df / 2.0, 0.5, df / (df + t * t))
    return t, df, p
