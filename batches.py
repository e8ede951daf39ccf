"""A run's data on its device (prepare_data) and the batches it draws each epoch: augmentation as
batched tensor ops on the training device (crop, flip, rotation, normalization), every random
draw of an epoch made at once, and each process's share of the training and test batches."""
import torch
import torch.nn.functional as F

from datasets import FAKE_SHAPES, channel_stats, load_dataset, load_synthetic, pixel_stats

NO_CROP_FLIP_DATASETS = ("mnist",)  # --augment auto: none, as a flipped digit is another shape
LOADER_AUGMENTED_DATASETS = ("imagenet",)  # streamed: cropped and flipped in its loader's workers
AUGMENTS = ("none", "crop-flip", "rotate-crop", "reflect-crop-flip")  # --augment's, on the device
# reflect-crop-flip: RedBit's main_cifar10.py (the results table), RandomCrop(32, padding=4,
# padding_mode='reflect') and RandomHorizontalFlip
FLIPPED = ("crop-flip", "reflect-crop-flip")  # the recipes that flip half the images
# RedBit's main_mnist.py (the results table): RandomRotation(10), then RandomCrop(28, padding=4)
ROTATION_DEGREES, ROTATE_CROP_PADDING = 10, 4


# ----------------------------------------------------------------------------- augmentation
# Batched tensor ops on the training device. The draws come from a torch.Generator on the CPU,
# made for a whole epoch at once, so they are the same on every device, restart exactly after a
# resume and cost one transfer.

def crop_flip_draws(g, shape, padding):
    """Crop offsets dy, dx in [0, 2 * padding] and horizontal-flip flags for images of `shape`
    (e.g. steps x batch)."""
    offsets = torch.randint(0, 2 * padding + 1, (2, *shape), generator=g)
    return offsets[0], offsets[1], torch.rand(shape, generator=g) < 0.5


def random_crop_flip(x, dy, dx, flip, padding, reflect=False):
    """Crop each image at (dy, dx) from its zero-padded version (mirrored at its edges with
    `reflect`), then flip it horizontally where flip is set."""
    n, _, h, w = x.shape
    padded = reflect_pad(x, padding) if reflect else F.pad(x, (padding,) * 4)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = dx[:, None] + torch.arange(w, device=x.device)
    cols = torch.where(flip[:, None], cols.flip(1), cols)[:, None, None, :]
    return padded[torch.arange(n, device=x.device)[:, None, None, None],
                  torch.arange(x.shape[1], device=x.device)[None, :, None, None], rows, cols]


def reflect_pad(x, padding):
    """The images padded by their mirror images, the edge row and column not repeated (torchvision's
    padding_mode='reflect'), by indexing: any dtype, uint8 too."""
    h, w = x.shape[-2:]
    rows, cols = (reflected_indices(n, padding, x.device) for n in (h, w))
    return x[:, :, rows[:, None], cols]


def reflected_indices(n, padding, device):
    """Where each of the n + 2 * padding positions of a reflect-padded side reads: -1 reads 1."""
    i = torch.arange(-padding, n + padding, device=device).abs()
    return torch.where(i < n, i, 2 * (n - 1) - i)


def rotation_draws(g, shape, degrees=ROTATION_DEGREES):
    """Angles uniform in [-degrees, degrees], as torchvision's RandomRotation draws them."""
    return (torch.rand(shape, generator=g, dtype=torch.float32) * 2 - 1) * degrees


def rotate(x, degrees):
    """Each image turned counter-clockwise by its angle in degrees about its centre, nearest pixel,
    zero fill: torchvision's rotate with RandomRotation's defaults, as one resampling of the batch
    (uint8 stays uint8: nearest sampling copies pixels)."""
    n, c, h, w = x.shape
    a = torch.deg2rad(degrees.float())
    cos, sin, zero = a.cos(), a.sin(), torch.zeros_like(a)
    # where each output pixel reads, in coordinates from -1 to 1 across each side (hence h / w)
    rows = [torch.stack([cos, -sin * h / w, zero], 1), torch.stack([sin * w / h, cos, zero], 1)]
    theta = torch.stack(rows, 1)
    grid = F.affine_grid(theta, [n, c, h, w], align_corners=False)
    return F.grid_sample(x.float(), grid, mode="nearest", align_corners=False).to(x.dtype)


def crop_padding(args, data):
    """The padding, in pixels, around the image that the random crop takes its window from."""
    return ROTATE_CROP_PADDING if args.augment == "rotate-crop" else data["train_x"].shape[-1] // 8


def normalize(x_uint8, mean, std, dtype):
    """uint8 images to normalized floats; mean and std per channel (C) or per pixel (C x H x W),
    as lists, or tensors already on the device (no copy)."""
    mean = torch.as_tensor(mean, dtype=dtype, device=x_uint8.device)
    std = torch.as_tensor(std, dtype=dtype, device=x_uint8.device)
    per_channel = (1, -1, 1, 1)
    mean = mean.view(per_channel) if mean.dim() == 1 else mean.unsqueeze(0)
    return (x_uint8.to(dtype) - mean) / std.view(per_channel)


# ----------------------------------------------------------------------------- a run's batches

def epoch_draws(args, data, g, steps):
    """Every random draw of an epoch's batches, from g on the CPU (the same on every device,
    repeated exactly on resume) and sent to the device in one transfer: rows (order, dy, dx, flip,
    mixup partner, and with rotate-crop the angle), each steps x batch. Each process of a
    distributed run draws them all and takes its share of every batch."""
    b, streamed = args.batch_size, data.get("streamed")
    n_train = len(data["train"] if streamed else data["train_y"])
    order = torch.randperm(n_train, generator=g)[:steps * b].view(steps, b)
    # ImageNet's crops and flips happen in the loader's workers
    crops = None if streamed else crop_flip_draws(g, (steps, b), crop_padding(args, data))
    angle = rotation_draws(g, (steps, b)) if args.augment == "rotate-crop" else None
    partner = torch.stack([torch.randperm(b // args.world_size, generator=g) for _ in range(steps)])
    if streamed:
        return dict(order=order, partner=partner.to(args.device))
    dy, dx, flip = crops
    flip = flip & (args.augment in FLIPPED)  # drawn anyway: every recipe draws one stream
    # to the batch's width, to stack
    partner = torch.nn.functional.pad(partner, (0, b - partner.shape[1]))
    rows = [order, dy, dx, flip.long(), partner]
    if angle is not None:  # the float32 angles' bits go as integers: one transfer, exact
        rows.append(angle.view(torch.int32).long())
    rows = torch.stack(rows).to(args.device)  # the one transfer
    draws = dict(order=rows[0], dy=rows[1], dx=rows[2], flip=rows[3].bool(), partner=rows[4])
    return draws if angle is None else dict(draws, angle=rows[5].int().view(torch.float32))


def train_batches(args, data, draws, steps, rank=0, world=1):
    """This process's share of each augmented uint8 training batch, with its mixup partners
    (indices into the share), on the device. In-memory datasets are augmented as whole batches on
    the device as --augment says (rotated, then cropped, or cropped and flipped); ImageNet comes
    from workers, each process decoding only its own share."""
    share = args.batch_size // world
    if data.get("streamed"):
        order = draws["order"][:, rank::world].flatten().tolist()
        loader = torch.utils.data.DataLoader(data["train"], share, sampler=order, drop_last=True,
                                             num_workers=args.workers,
                                             pin_memory=args.device.startswith("cuda"))
        for i, (x, y) in zip(range(steps), loader):
            yield (x.to(args.device, non_blocking=True), y.to(args.device, non_blocking=True),
                   draws["partner"][i])
        return
    padding = crop_padding(args, data)
    for i in range(steps):
        idx = draws["order"][i, rank::world]
        x = data["train_x"][idx]
        if args.augment == "rotate-crop":
            x = rotate(x, draws["angle"][i, rank::world])
        if args.augment != "none":
            x = random_crop_flip(x, draws["dy"][i, rank::world], draws["dx"][i, rank::world],
                                 draws["flip"][i, rank::world], padding,
                                 reflect=args.augment == "reflect-crop-flip")
        yield x, data["train_y"][idx], draws["partner"][i, :share]


def test_batches(args, data, batch_size, rank=0, world=1):
    """This process's share of the test set (every world-th image), in batches."""
    if data.get("streamed"):
        shard = torch.utils.data.Subset(data["test"], range(rank, len(data["test"]), world))
        loader = torch.utils.data.DataLoader(shard, batch_size, num_workers=args.workers)
        yield from ((x.to(args.device), y.to(args.device)) for x, y in loader)
        return
    x_all, y_all = data["test_x"][rank::world], data["test_y"][rank::world]
    for i in range(0, len(y_all), batch_size):
        yield x_all[i:i + batch_size], y_all[i:i + batch_size]


def to_input(args, x, data):
    x = normalize(x, data["mean"], data["std"], torch.float32)
    return x.contiguous(memory_format=torch.channels_last) if args.channels_last else x


def prepare_data(args):
    """The dataset of a run's flags (or its synthetic stand-in), on the training device with its
    mean and std."""
    if args.fake_data:
        classes, size, channels = FAKE_SHAPES[args.dataset]
        size = args.fake_size or size
        data = load_synthetic(seed=args.seed, num_classes=classes, size=size, channels=channels,
                              n_train=256, n_test=16)
        data["mean"], data["std"] = channel_stats(data["train_x"])
    else:
        data = load_dataset(args.dataset, args.data_dir, args.seed)
    if args.normalize == "pixel":
        data["mean"], data["std"] = pixel_stats(data["train_x"])
    # kept on the training device as uint8: 150 MB for CIFAR, 1.2 GB for Tiny-ImageNet
    if not data.get("streamed"):
        for key in ("train_x", "train_y", "test_x", "test_y"):
            data[key] = data[key].to(args.device)
    for key in ("mean", "std"):  # on the device once, not rebuilt from a list at every batch
        data[key] = torch.tensor(data[key], dtype=torch.float32, device=args.device)
    return data
