"""Train one network, full precision or quantized, on one dataset, and write its run folder.

    python train.py --quant ttq --dataset cifar10 --seed 0

A run writes OUT/<dataset>/<model>/<tag>_s<seed>/ with config.json, results.json, last.pt
(everything needed to resume, written every epoch) and best.pt (the best model so far).
Running the same command again resumes an unfinished run and skips a completed one.
Models live in models.py, quantizers in quant.py, data and file helpers in common.py.
"""
import argparse
import fcntl
import math
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

import common
import models
import quant

FAKE_SHAPES = {"cifar10": (10, 32, 3), "cifar100": (100, 32, 3), "tiny-imagenet": (200, 64, 3), "synthetic": (10, 16, 3),
               "mnist": (10, 28, 1)}
AUGMENT_DATASETS = ("cifar10", "tiny-imagenet")  # mixup and label smoothing on these, as in the study
UNAUGMENTED_DATASETS = ("mnist",)  # no crop or flip: a flipped digit is another shape (and LeNet-5's papers use none)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    a = p.add_argument
    a("--model", default="resnet18", help=f"one of: {', '.join(models.MODELS)}")
    a("--dataset", default="cifar10", help=f"one of: {', '.join(common.DATASETS)}")
    a("--data-dir", default="./data", help="where datasets live (and are downloaded to)")
    a("--fake-data", action="store_true",
      help="replace the images by generated ones with the dataset's shape and class count (offline pipeline checks)")
    a("--fake-size", type=int, default=None, help="--fake-data image size (default: the dataset's own)")
    a("--quant", default="fp32", help=f"one of: {', '.join(quant.METHODS)}")
    a("--stem", default="auto", choices=["auto", "cifar", "imagenet"],
      help="ResNet-18/50 stem; auto: cifar (3x3/1, no max-pool) up to 64 px inputs, imagenet (7x7/2 + max-pool) above")
    a("--keep", default="", help="comma-separated layers kept in full precision, e.g. conv1,layer1,fc")
    a("--fp32-conv1", action="store_true", help="shorthand for --keep conv1")
    a("--no-sub-ln", dest="sub_ln", action="store_false", help="bitnet: no LayerNorm before activation quantization")
    a("--ttq-threshold", type=float, default=0.05, help="ttq: delta = t * max|w| per layer")
    a("--scale-lr", type=float, default=0.01, help="ttq: the scales' lr as a fraction of --lr (no weight decay)")
    a("--wbits", type=int, default=None, help="weight bits for xnor, dorefa, qnn, twn (32: full precision)")
    a("--abits", type=int, default=None, help="activation bits for xnor (1 or 32), dorefa, qnn (32: full precision)")
    a("--ste", default=None, help=f"backward pass of sign/ternary for twn, bc, xnor, qnn: {', '.join(quant.SURROGATES)}")
    a("--stochastic", action="store_true", help="bc: stochastic binarization (+1 with p = clip((w+1)/2, 0, 1))")
    a("--clip-factor", type=float, default=None,
      help="after every step clip each quantized layer's latent weights to [-f*std(W), f*std(W)]")
    a("--no-bn", dest="bn", action="store_false", help="replace batch norm by the identity (BN ablation)")
    a("--shortcut", default="A", choices=["A", "B"],
      help="ResNet-20..56, WRN: A = zero-padded identity, B = 1x1 projection where shapes change")
    a("--init-from", default=None, metavar="CKPT", help="start from this full-precision checkpoint's weights")
    a("--report", default="final", choices=["final", "best", "ttq-avg"],
      help="accuracy reported as report_top1: final epoch, best epoch, or the mean of the last 10 epochs (TTQ paper)")
    a("--kd", default=None, metavar="TEACHER_CKPT", help="distil from this FP32 checkpoint (best.pt of a run)")
    a("--kd-temperature", type=float, default=4.0)
    a("--kd-alpha", type=float, default=0.9, help="loss = alpha*T^2*KL(student/T || teacher/T) + (1-alpha)*CE")
    a("--seed", type=int, default=0)
    a("--epochs", type=int, default=300)
    a("--batch-size", type=int, default=128)
    a("--optimizer", default="sgd", choices=["sgd", "adam"])
    a("--lr", type=float, default=0.1)
    a("--momentum", type=float, default=0.9)
    a("--nesterov", action=argparse.BooleanOptionalAction, default=True, help="SGD: Nesterov momentum")
    a("--weight-decay", type=float, default=5e-4)
    a("--schedule", default="cosine", choices=["cosine", "step"])
    a("--milestones", default="150,225", help="step schedule: epochs at which lr is multiplied by --gamma")
    a("--gamma", type=float, default=0.1)
    a("--warmup-epochs", type=int, default=5, help="linear warm-up (capped at epochs - 1)")
    a("--min-lr", type=float, default=1e-5, help="cosine schedule's final lr")
    a("--mixup", type=float, default=None, help="mixup alpha; default 0.2 on cifar10 and tiny-imagenet, else 0")
    a("--label-smoothing", type=float, default=None, help="default 0.1 on cifar10 and tiny-imagenet, else 0")
    a("--out", default="results/raw", help="results root")
    a("--tag", default=None, help="run name; default built from the configuration, e.g. bitnet_keep-conv1_kd")
    a("--steps-per-epoch", type=int, default=None, help="cap on training steps per epoch (smoke runs, benchmarks)")
    a("--device", default="auto", help="auto (cuda when present), cpu, cuda, cuda:1, ...")
    a("--workers", type=int, default=8, help="DataLoader worker processes (imagenet only; the others live in memory)")
    a("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    a("--amp", action=argparse.BooleanOptionalAction, default=None, help="bf16 autocast; default on for cuda")
    a("--channels-last", action=argparse.BooleanOptionalAction, default=None,
      help="NHWC memory; default on for cuda, and on a CPU for the ResNets (measured faster there)")
    a("--compile", action=argparse.BooleanOptionalAction, default=None,
      help="torch.compile the model as one graph (a model it cannot compile is an error); default on for cuda")
    a("--quiet", action="store_true", help="no progress bars (they are off anyway when not on a terminal)")
    a("--summary", action="store_true", help="print the model's per-layer summary (bits, bytes, MACs) and exit untrained")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- configuration

def default_tag(args):
    parts = [args.quant]
    if args.keep:
        parts.append("keep-" + "-".join(args.keep))
    if args.stem != "auto":
        parts.append(f"stem-{args.stem}")
    if args.wbits or args.abits:
        parts.append(f"w{args.wbits or 32}a{args.abits or 32}")
    if args.ste:
        parts.append(f"ste-{args.ste}")
    if args.stochastic:
        parts.append("stochastic")
    if args.clip_factor:
        parts.append(f"clip{args.clip_factor:g}")
    if not args.bn:
        parts.append("nobn")
    if args.shortcut != "A":
        parts.append(f"shortcut{args.shortcut}")
    if args.kd:
        parts.append("kd")
    if args.batch_size != 128:
        parts.append(f"bs{args.batch_size}")
    return "_".join(parts)


def resolve(args):
    """Check names and combinations (one clear line and exit 2 when wrong) and fill in defaults."""
    for value, registry, what in ((args.model, models.MODELS, "model"), (args.dataset, common.DATASETS, "dataset"),
                                  (args.quant, quant.METHODS, "quantizer")):
        if value not in registry:
            common.fail(f"unknown {what} '{value}'; choose one of: {', '.join(registry)}")
    args.keep = [k for k in args.keep.split(",") if k] + (["conv1"] if args.fp32_conv1 else [])
    args.keep = list(dict.fromkeys(args.keep))
    problem = quant.check_options(args.quant, args.wbits, args.abits, args.ste, args.stochastic)
    if problem:
        common.fail(problem)
    if args.init_from and not Path(args.init_from).is_file():
        common.fail(f"--init-from checkpoint {args.init_from} not found")
    if args.fake_data and args.dataset not in FAKE_SHAPES:
        common.fail(f"--fake-data needs a dataset of known shape: {', '.join(FAKE_SHAPES)}")
    if args.kd and not Path(args.kd).is_file():
        common.fail(f"KD teacher {args.kd} not found; train it first (its run writes best.pt)")
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            common.fail(f"--{name.replace('_', '-')} must be at least 1")
    try:
        args.milestones = [int(m) for m in str(args.milestones).split(",") if m]
    except ValueError:
        common.fail(f"--milestones takes comma-separated epochs, got '{args.milestones}'")
    augment = args.dataset in AUGMENT_DATASETS
    args.mixup = (0.2 if augment else 0.0) if args.mixup is None else args.mixup
    args.label_smoothing = (0.1 if augment else 0.0) if args.label_smoothing is None else args.label_smoothing
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    on_cuda = args.device.startswith("cuda")
    args.amp = on_cuda if args.amp is None else args.amp
    if args.channels_last is None:
        args.channels_last = default_channels_last(args.device, args.model)
    args.compile = on_cuda if args.compile is None else args.compile
    args.tag = args.tag or default_tag(args)
    args.world_size = 1  # setup_distributed sets it under torchrun
    args.quiet = args.quiet or not sys.stderr.isatty()
    return args


# models whose every quantizer trains faster in channels_last than in contiguous memory on a CPU, measured side by
# side with `bench.py --layout both` (docs/speed.md): the ResNets (ResNet-20: 0.73-0.88x the step time; ResNet-18:
# 0.82-0.94x); not LeNet-5 (1.12-1.31x) or VGG-16 (0.96-1.02x). ResNet-32..56, WRN and ResNet-50 share those blocks
CPU_CHANNELS_LAST_MODELS = frozenset({"resnet18", "resnet50", "resnet20", "resnet32", "resnet44", "resnet56", "wrn56_2"})


def default_channels_last(device, model_name):
    """--channels-last when not given: always on CUDA (tensor cores want NHWC), for the ResNets on a CPU."""
    return device.startswith("cuda") or model_name in CPU_CHANNELS_LAST_MODELS


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                              text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


# flags that may change between a run and its resumption without changing what is computed (beyond rounding);
# not --amp (bf16 arithmetic) or --compile (compiled code draws other random numbers than eager: stochastic BC, SR)
RESUMABLE_CHANGES = {"epochs", "device", "workers", "threads", "quiet", "out", "data_dir", "steps_per_epoch",
                     "channels_last", "world_size", "torch_version", "git_commit", "kd", "run_dir", "summary"}


def check_same_run(saved, config):
    # a key the saved run lacks was added to the config since (data_format): nothing to compare it with
    changed = sorted(k for k in config if k not in RESUMABLE_CHANGES and k in saved and saved[k] != config[k])
    if changed:
        diff = ", ".join(f"{k}: {saved.get(k)} -> {config[k]}" for k in changed)
        common.fail(f"{config['run_dir']} holds a run with other settings ({diff}); pass --tag to start a new one")


def setup_distributed(args):
    """Under torchrun (WORLD_SIZE > 1): join the process group and take this process's GPU. Returns (rank, world
    size); (0, 1) for a plain run. On GPUs the group has both backends, NCCL for CUDA tensors and gloo for CPU ones."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    import torch.distributed as dist
    if args.device.startswith("cuda"):
        args.device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
        torch.cuda.set_device(args.device)
    dist.init_process_group("cpu:gloo,cuda:nccl" if args.device.startswith("cuda") else "gloo")
    if args.batch_size % world:
        common.fail(f"--batch-size {args.batch_size} must divide evenly over {world} processes")
    return dist.get_rank(), world


def mean_over_processes(t, world):
    """The mean of tensor t over the processes, reduced on t's own device (NCCL takes no CPU tensors)."""
    if world == 1:
        return t
    import torch.distributed as dist
    t = t.detach().clone()
    dist.all_reduce(t)
    return t / world


# ----------------------------------------------------------------------------- model, teacher, optimizer

def build(args, num_classes, image_size, in_channels):
    stem = args.stem if args.stem != "auto" else ("cifar" if image_size <= 64 else "imagenet")
    model = models.build_model(args.model, num_classes, image_size, in_channels, stem=stem, bn=args.bn,
                               shortcut=args.shortcut)
    names = models.layer_names(model)
    missing = [k for k in args.keep if k not in names]
    if missing:
        top = sorted(n for n in names if "." not in n)
        common.fail(f"--keep names no layer of {args.model}: {', '.join(missing)}; top-level layers: {', '.join(top)}")
    if args.init_from:  # before quantizing, so quantizer state (TTQ scales, SR grid) starts from these weights
        try:
            model.load_state_dict(common.load_checkpoint(args.init_from)["model"])
        except Exception as e:
            common.fail(f"cannot start from {args.init_from}: {str(e).splitlines()[0][:200]}")
    quant.quantize_model(model, args.quant, args.keep, sub_ln=args.sub_ln, ttq_threshold=args.ttq_threshold,
                         wbits=args.wbits, abits=args.abits, ste=args.ste, stochastic=args.stochastic,
                         init_from=args.init_from)
    return model, stem


def load_teacher(path, config):
    try:
        ckpt = common.load_checkpoint(path)
        teacher_config = ckpt["config"]
    except Exception as e:
        common.fail(f"cannot load KD teacher {path}: {str(e).splitlines()[0][:200]}")
    for key in ("model", "num_classes"):
        if teacher_config.get(key) != config[key]:
            common.fail(f"KD teacher {path} has {key} {teacher_config.get(key)}, the student {config[key]}")
    if teacher_config.get("quant") != "fp32":
        common.fail(f"KD teacher {path} is a {teacher_config.get('quant')} model; the teacher must be fp32")
    teacher = models.build_model(teacher_config["model"], teacher_config["num_classes"], teacher_config["image_size"],
                                 teacher_config.get("in_channels", 3), stem=teacher_config["stem"],
                                 bn=teacher_config.get("bn", True), shortcut=teacher_config.get("shortcut", "A"))
    teacher.load_state_dict(ckpt["model"])
    return teacher.eval().requires_grad_(False)


def make_optimizer(args, model):
    """Weights in one group; the quantizers' trained scales (TTQ's Wp, Wn) in a second one with no weight decay
    and lr * --scale-lr: their gradient sums over a whole layer, so the weights' lr would flip their signs."""
    scales = [p for n, p in model.named_parameters() if ".quantizer." in n]
    weights = [p for n, p in model.named_parameters() if ".quantizer." not in n]
    groups = [dict(params=weights, lr_scale=1.0), dict(params=scales, lr_scale=args.scale_lr, weight_decay=0.0)]
    fused = dict(fused=True) if args.device.startswith("cuda") else {}  # one kernel for all parameters on GPUs
    if args.optimizer == "adam":
        return torch.optim.Adam(groups, lr=args.lr, weight_decay=args.weight_decay, **fused)
    return torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay,
                           nesterov=args.nesterov and args.momentum > 0, **fused)


def lr_at(args, step, steps_per_epoch):
    """Linear warm-up, then cosine to min_lr or step decay at the milestones."""
    warmup = min(args.warmup_epochs, args.epochs - 1) * steps_per_epoch
    if step < warmup:
        return args.lr * (step + 1) / warmup
    if args.schedule == "step":
        return args.lr * args.gamma ** sum(step >= m * steps_per_epoch for m in args.milestones)
    progress = (step - warmup) / max(1, args.epochs * steps_per_epoch - warmup)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * progress))


# ----------------------------------------------------------------------------- batches

def epoch_draws(args, data, g, steps):
    """Every random draw of an epoch's batches, from g on the CPU (the same on every device, repeated exactly on
    resume) and sent to the device in one transfer: rows (order, dy, dx, flip, mixup partner), each steps x batch.
    Each process of a distributed run draws them all and takes its share of every batch."""
    b, streamed = args.batch_size, data.get("streamed")
    order = torch.randperm(len(data["train"] if streamed else data["train_y"]), generator=g)[:steps * b].view(steps, b)
    # ImageNet's crops and flips happen in the loader's workers
    crops = None if streamed else common.crop_flip_draws(g, (steps, b), data["train_x"].shape[-1] // 8)
    partner = torch.stack([torch.randperm(b // args.world_size, generator=g) for _ in range(steps)])
    if streamed:
        return dict(order=order, partner=partner.to(args.device))
    dy, dx, flip = crops
    partner = torch.nn.functional.pad(partner, (0, b - partner.shape[1]))  # to the batch's width, to stack
    rows = torch.stack([order, dy, dx, flip.long(), partner]).to(args.device)  # the one transfer
    return dict(order=rows[0], dy=rows[1], dx=rows[2], flip=rows[3].bool(), partner=rows[4])


def train_batches(args, data, draws, steps, rank=0, world=1):
    """This process's share of each augmented uint8 training batch, with its mixup partners (indices into the
    share), on the device. In-memory datasets are cropped and flipped as whole batches on the device (MNIST is not);
    ImageNet comes from workers, each process decoding only its own share."""
    share = args.batch_size // world
    if data.get("streamed"):
        order = draws["order"][:, rank::world].flatten().tolist()
        loader = torch.utils.data.DataLoader(data["train"], share, sampler=order, drop_last=True,
                                             num_workers=args.workers, pin_memory=args.device.startswith("cuda"))
        for i, (x, y) in zip(range(steps), loader):
            yield x.to(args.device, non_blocking=True), y.to(args.device, non_blocking=True), draws["partner"][i]
        return
    padding = data["train_x"].shape[-1] // 8
    for i in range(steps):
        idx = draws["order"][i, rank::world]
        x = data["train_x"][idx]
        if args.dataset not in UNAUGMENTED_DATASETS:
            x = common.random_crop_flip(x, draws["dy"][i, rank::world], draws["dx"][i, rank::world],
                                        draws["flip"][i, rank::world], padding)
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
    x = common.normalize(x, data["mean"], data["std"], torch.float32)
    return x.contiguous(memory_format=torch.channels_last) if args.channels_last else x


# ----------------------------------------------------------------------------- one epoch

def loss_fn(args, logits, y, y_mixed, lam, teacher_logits):
    ce = lambda target: F.cross_entropy(logits, target, label_smoothing=args.label_smoothing)
    loss = lam * ce(y) + (1 - lam) * ce(y_mixed) if lam < 1 else ce(y)
    if teacher_logits is not None:
        t = args.kd_temperature
        kl = F.kl_div(F.log_softmax(logits / t, 1), F.log_softmax(teacher_logits / t, 1), reduction="batchmean",
                      log_target=True)
        loss = args.kd_alpha * t * t * kl + (1 - args.kd_alpha) * loss
    return loss


class Diverged(Exception):
    pass


def train_epoch(args, epoch, model, forward, teacher, optimizer, data, state, steps_per_epoch, rank=0, world=1):
    """One pass over a fresh permutation; every random draw comes from generators seeded by
    (seed, epoch), so a resumed epoch repeats exactly. One host sync a step: the loss, checked before the update."""
    model.train()
    quant.set_progress(model, epoch / args.epochs)
    g = torch.Generator().manual_seed(args.seed * 1_000_003 + epoch)
    torch.manual_seed(args.seed * 1_000_003 + epoch)  # stochastic quantizers draw from the global generator
    rng = np.random.default_rng([args.seed, epoch])
    autocast = torch.autocast(args.device.split(":")[0], torch.bfloat16) if args.amp else nullcontext()
    total_loss, seconds, start = 0.0, 0.0, time.perf_counter()
    draws = epoch_draws(args, data, g, steps_per_epoch)
    bar = tqdm(train_batches(args, data, draws, steps_per_epoch, rank, world), total=steps_per_epoch,
               desc=f"epoch {epoch + 1}", leave=False, disable=args.quiet)
    for i, (x, y, partner) in enumerate(bar):
        x, y_mixed, lam = to_input(args, x, data), None, 1.0
        if args.mixup > 0:
            lam = float(rng.beta(args.mixup, args.mixup))
            x, y_mixed = lam * x + (1 - lam) * x[partner], y[partner]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(args, state["step"], steps_per_epoch) * group["lr_scale"]
        with autocast:
            logits = forward(x)
            teacher_logits = None
            if teacher is not None:
                with torch.no_grad():
                    teacher_logits = teacher(x)
            loss = loss_fn(args, logits.float(), y, y_mixed, lam,
                           None if teacher_logits is None else teacher_logits.float())
        value = mean_over_processes(loss.detach(), world).item()  # the step's one host sync
        if not math.isfinite(value):  # stop before the bad gradient reaches the weights
            raise Diverged(dict(diverged_epoch=epoch + 1, diverged_step=i + 1, last_finite_loss=state["last_loss"]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        quant.after_step(model, args.clip_factor)
        state["step"] += 1
        state["last_loss"] = value
        total_loss += value
        bar.set_postfix(loss=f"{value:.3f}")
    seconds = time.perf_counter() - start
    return total_loss / steps_per_epoch, steps_per_epoch * args.batch_size / max(seconds, 1e-9)


@torch.no_grad()
def evaluate(args, model, data, batch_size=1024, rank=0, world=1):
    """Top-1, top-5 (percent) and mean loss over the whole test set, without autograd; each process takes its
    share and the sums are reduced, read back in one host sync."""
    model.eval()
    autocast = torch.autocast(args.device.split(":")[0], torch.bfloat16) if args.amp else nullcontext()
    sums = torch.zeros(4, dtype=torch.float64, device=args.device)  # top-1 hits, top-5 hits, loss, images
    k = min(5, data["num_classes"])
    for x, y in test_batches(args, data, batch_size, rank, world):
        with autocast:
            logits = model(to_input(args, x, data)).float()
        top = logits.topk(k, 1).indices
        sums[0] += (top[:, 0] == y).sum()
        sums[1] += (top == y[:, None]).any(1).sum()
        sums[2] += F.cross_entropy(logits, y, reduction="sum")
        sums[3] += len(y)
    correct1, correct5, loss, n = (mean_over_processes(sums, world) * world).tolist()
    return 100 * correct1 / n, 100 * correct5 / n, loss / n


# ----------------------------------------------------------------------------- run folder

def acquire_lock(run_dir):
    """One process per run folder: an flock on run_dir/lock, which the kernel drops when its owner dies."""
    path = run_dir / "lock"
    for _ in range(3):
        stale = path.exists()
        fd = os.open(path, os.O_CREAT | os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode().strip() or "unknown"
            os.close(fd)
            common.fail(f"{run_dir} is being trained by another process (pid {pid}); wait for it or stop it")
        try:
            replaced = os.stat(path).st_ino != os.fstat(fd).st_ino
        except FileNotFoundError:
            replaced = True
        if replaced:  # the owner removed the file as we opened it: lock the new one
            os.close(fd)
            continue
        if stale:
            print(f"note: taking over the stale lock of {run_dir} (its process is gone)", file=sys.stderr)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return path, fd
    common.fail(f"could not take the lock {path}")


def release_lock(lock):
    path, fd = lock
    path.unlink(missing_ok=True)  # removed while still held, so no process can lock the old file after us
    os.close(fd)


def load_resume_state(run_dir):
    """last.pt if it loads, else the previous good one (last.pt.prev), else None."""
    for name in ("last.pt", "last.pt.prev"):
        path = run_dir / name
        if path.exists():
            try:
                return common.load_checkpoint(path)
            except Exception as e:
                print(f"warning: {path} is corrupt ({type(e).__name__}); trying the previous checkpoint",
                      file=sys.stderr)
    return None


def save_last(run_dir, ckpt):
    last = run_dir / "last.pt"
    if last.exists():  # keep the previous good checkpoint until the new one is safely on disk
        os.replace(last, run_dir / "last.pt.prev")
    common.save_checkpoint(last, ckpt)


def prepare_data(args):
    if args.fake_data:
        classes, size, channels = FAKE_SHAPES[args.dataset]
        size = args.fake_size or size
        data = common.load_synthetic(seed=args.seed, num_classes=classes, size=size, channels=channels,
                                     n_train=256, n_test=16)
        x = data["train_x"].float()
        data["mean"], data["std"] = x.mean(dim=(0, 2, 3)).tolist(), x.std(dim=(0, 2, 3)).tolist()
    else:
        data = common.load_dataset(args.dataset, args.data_dir, args.seed)
    if not data.get("streamed"):  # kept on the training device as uint8: 150 MB for CIFAR, 1.2 GB for Tiny-ImageNet
        for key in ("train_x", "train_y", "test_x", "test_y"):
            data[key] = data[key].to(args.device)
    for key in ("mean", "std"):  # on the device once, not rebuilt from a list at every batch
        data[key] = torch.tensor(data[key], dtype=torch.float32, device=args.device)
    return data


def main(argv=None):
    args = resolve(parse_args(argv))
    if args.summary:
        import export  # here, not at the top: export.py builds on this file
        return export.print_summary(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    run_dir = Path(args.out) / args.dataset / args.model / f"{args.tag}_s{args.seed}"
    previous = common.read_json(run_dir / "results.json")
    if previous and previous.get("status") == "completed":
        print(f"run: {run_dir} (completed; top-1 {previous.get('final_top1', float('nan')):.2f}%, nothing to do)")
        return 0
    rank, world = setup_distributed(args)
    args.world_size = world
    if rank > 0:  # the other processes train in step with rank 0, which alone writes files
        return train(args, run_dir, rank, world)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        common.fail(f"cannot write to {run_dir}: {e.strerror}")
    lock = acquire_lock(run_dir)
    try:
        return train(args, run_dir, rank, world)
    except OSError as e:  # a full disk or a vanished folder while writing: the previous files are intact
        common.fail(f"cannot write to {run_dir} ({e.strerror or e}); the last good checkpoint is kept, rerun to resume")
    finally:
        release_lock(lock)


def train(args, run_dir, rank=0, world=1):
    common.seed_everything(args.seed)
    main_process = rank == 0
    log = print if main_process else (lambda *a, **k: None)
    data = prepare_data(args)
    n_train, n_test = (len(data["train"]), len(data["test"])) if data.get("streamed") else (len(data["train_y"]), len(data["test_y"]))
    num_classes = data["num_classes"]
    image_size, in_channels = (224, 3) if data.get("streamed") else (data["train_x"].shape[-1], data["train_x"].shape[1])
    model, stem = build(args, num_classes, image_size, in_channels)
    config = dict(vars(args), stem=stem, num_classes=num_classes, image_size=image_size, in_channels=in_channels,
                  data_format=data.get("format"), run_dir=str(run_dir), torch_version=str(torch.__version__),
                  git_commit=git_commit())
    saved = common.read_json(run_dir / "config.json")
    if saved:
        check_same_run(saved, config)
    teacher = load_teacher(args.kd, config).to(args.device) if args.kd else None
    model.to(args.device)
    if args.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # fixed shapes: pick the fastest kernels once
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
        teacher = teacher.to(memory_format=torch.channels_last) if teacher is not None else None
    optimizer = make_optimizer(args, model)
    params, quantized_params, size_bytes, fp32_bytes = quant.model_size(model)
    if args.compile:
        from torch._dynamo.utils import counters
        counters.clear()  # compile_stats counts this run's graphs only
    forward = compile_model(model) if args.compile else model  # compiled inside DDP: one graph, not DDP's splits
    if world > 1:
        forward = torch.nn.parallel.DistributedDataParallel(forward)
    teacher_forward = compile_model(teacher) if args.compile and teacher is not None else teacher

    ckpt = load_resume_state(run_dir)
    history, best, start_epoch, state = [], dict(top1=-1.0, epoch=0), 0, dict(step=0, last_loss=None)
    if ckpt:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        history, best, start_epoch, state = ckpt["history"], ckpt["best"], ckpt["epoch"], ckpt["state"]
    log(f"run: {run_dir} ({f'resume from epoch {start_epoch}' if ckpt else 'new'})")
    stem_note = f" ({stem} stem)" if args.model in models.STEMMED else ""
    log(f"{args.model}{stem_note}, {args.quant}, {params / 1e6:.2f}M parameters "
          f"({quantized_params / 1e6:.2f}M quantized), {size_bytes / 2**20:.2f} MB deployed; "
          f"{args.dataset}: {n_train} train / {n_test} test images on {args.device}"
          + (f" x {world} processes" if world > 1 else ""))
    if main_process:
        common.write_json(run_dir / "config.json", config)
        import export  # here, not at the top: export.py builds on this file
        export.write_summary(run_dir / "summary.md", model, config)

    steps_per_epoch = n_train // args.batch_size
    if steps_per_epoch == 0:
        common.fail(f"--batch-size {args.batch_size} is larger than the {n_train} training images")
    steps_per_epoch = min(steps_per_epoch, args.steps_per_epoch or steps_per_epoch)
    results = dict(status="running", epochs=args.epochs, params=params, quantized_params=quantized_params,
                   model_size_bytes=size_bytes, fp32_size_bytes=fp32_bytes,
                   compression_ratio=fp32_bytes / size_bytes)
    wall = ckpt["wall_seconds"] if ckpt else 0.0
    for epoch in tqdm(range(start_epoch, args.epochs), desc="epochs", initial=start_epoch, total=args.epochs,
                      disable=args.quiet):
        start = time.perf_counter()
        try:
            train_loss, images_per_second = train_epoch(args, epoch, model, forward, teacher_forward, optimizer, data,
                                                        state, steps_per_epoch, rank, world)
        except Diverged as d:
            info = d.args[0]
            if not main_process:
                return 1
            results.update(status="diverged", epochs_completed=epoch, history=history, **info,
                           message=f"non-finite loss at epoch {info['diverged_epoch']}, step {info['diverged_step']}")
            common.write_json(run_dir / "results.json", results)
            print(f"error: run diverged: {results['message']} (last finite loss {info['last_finite_loss']})",
                  file=sys.stderr)
            return 1
        except Exception as e:
            if args.compile and is_compile_error(e):
                common.fail(f"torch.compile cannot compile this model ({type(e).__name__}: "
                            f"{str(e).strip().splitlines()[0][:200]}); rerun with --no-compile to train it eagerly")
            raise
        top1, top5, test_loss = evaluate(args, model, data, rank=rank, world=world)
        seconds = time.perf_counter() - start
        if not main_process:
            continue
        wall += seconds
        history.append(dict(epoch=epoch + 1, train_loss=train_loss, test_loss=test_loss, test_top1=top1,
                            test_top5=top5, lr=optimizer.param_groups[0]["lr"], seconds=seconds,
                            images_per_second=images_per_second))
        if top1 > best["top1"]:
            best = dict(top1=top1, top5=top5, epoch=epoch + 1)
            common.save_checkpoint(run_dir / "best.pt", dict(model=model.state_dict(), config=config, **best))
        save_last(run_dir, dict(model=model.state_dict(), optimizer=optimizer.state_dict(), epoch=epoch + 1,
                                history=history, best=best, state=state, wall_seconds=wall,
                                torch_rng=torch.get_rng_state()))
        tqdm.write(f"epoch {epoch + 1}/{args.epochs}: loss {train_loss:.4f}, test top-1 {top1:.2f}%, "
                   f"top-5 {top5:.2f}%, {images_per_second:.0f} img/s, {seconds:.1f}s")
        common.write_json(run_dir / "results.json", dict(results, **summarize(args, history, best, wall),
                                                         **compile_stats(args, teacher)))
    if not main_process:
        return 0
    results.update(summarize(args, history, best, wall), **compile_stats(args, teacher), status="completed")
    common.write_json(run_dir / "results.json", results)
    (run_dir / "last.pt.prev").unlink(missing_ok=True)
    print(f"done: best top-1 {best['top1']:.2f}% (epoch {best['epoch']}), final top-1 {history[-1]['test_top1']:.2f}%"
          f" -> {run_dir}")
    return 0


COMPILE_BACKEND = "inductor"  # torch.compile's default; the CPU tests use aot_eager, which generates no code


def compile_model(module):
    """torch.compile of the whole model as one graph: a graph break is an error at the first step, and so is
    reaching the recompile limit, where dynamo would otherwise run the model eagerly without a word."""
    import torch._dynamo
    torch._dynamo.config.fail_on_recompile_limit_hit = True
    return torch.compile(module, backend=COMPILE_BACKEND, fullgraph=True)


def is_compile_error(e):
    import torch._dynamo.exc
    return isinstance(e, torch._dynamo.exc.TorchDynamoException)


def compile_stats(args, teacher):
    """What results.json records of torch.compile in this process: graphs compiled, graph breaks, recompiles."""
    if not args.compile:
        return dict(compiled=False)
    from torch._dynamo.utils import counters
    graphs = counters["stats"]["unique_graphs"]
    return dict(compiled=True, compiled_graphs=graphs, graph_breaks=sum(counters["graph_break"].values()),
                recompiles=max(0, graphs - 1 - (teacher is not None)))  # one graph per compiled model


def summarize(args, history, best, wall):
    last = history[-1]
    speeds = [h["images_per_second"] for h in history]
    report = {"final": last["test_top1"], "best": best["top1"],
              "ttq-avg": float(np.mean([h["test_top1"] for h in history[-10:]]))}[args.report]
    return dict(epochs_completed=last["epoch"], best_top1=best["top1"], best_top5=best["top5"],
                best_epoch=best["epoch"], final_top1=last["test_top1"], final_top5=last["test_top5"],
                report_top1=report, history=history, wall_seconds=wall,
                train_images_per_second=float(np.median(speeds)))


if __name__ == "__main__":
    sys.exit(main())
