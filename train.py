"""Train one network, full precision or quantized, on one dataset, and write its run folder.

    python train.py --quant ttq --dataset cifar10 --seed 0

A run writes OUT/<dataset>/<model>/<tag>_s<seed>/ with config.json, results.json, last.pt
(everything needed to resume, written every epoch), best.pt (the best model so far) and summary.md.
Running the same command again resumes an unfinished run and skips a completed one.
It holds the flags, the model's build, the optimizer and schedule, the epoch's loop and evaluation; datasets and
batches live in datasets.py, networks in models.py, quantizers in quant.py and qlayers.py, the run folder's lock and
resume check in run_folder.py, the per-layer summary in summary.py, torchrun and torch.compile in devices.py.
"""
import argparse
import math
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

import common
import datasets
import devices
import models
import qlayers
import quant
import run_folder
import summary

AUGMENT_DATASETS = ("cifar10", "tiny-imagenet")  # mixup and label smoothing on these, as in the study



def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    a = p.add_argument
    a("--model", default="resnet18", help=f"one of: {', '.join(models.MODELS)}")
    a("--dataset", default="cifar10", help=f"one of: {', '.join(datasets.DATASETS)}")
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
    for value, registry, what in ((args.model, models.MODELS, "model"), (args.dataset, datasets.DATASETS, "dataset"),
                                  (args.quant, quant.METHODS, "quantizer")):
        if value not in registry:
            common.fail(f"unknown {what} '{value}'; choose one of: {', '.join(registry)}")
    args.keep = [k for k in args.keep.split(",") if k] + (["conv1"] if args.fp32_conv1 else [])
    args.keep = list(dict.fromkeys(args.keep))
    problem = qlayers.check_options(args.quant, args.wbits, args.abits, args.ste, args.stochastic)
    if problem:
        common.fail(problem)
    if args.init_from and not Path(args.init_from).is_file():
        common.fail(f"--init-from checkpoint {args.init_from} not found")
    if args.fake_data and args.dataset not in datasets.FAKE_SHAPES:
        common.fail(f"--fake-data needs a dataset of known shape: {', '.join(datasets.FAKE_SHAPES)}")
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
        args.channels_last = devices.default_channels_last(args.device, args.model)
    args.compile = on_cuda if args.compile is None else args.compile
    args.tag = args.tag or default_tag(args)
    args.world_size = 1  # main() sets it from devices.setup_distributed under torchrun
    args.quiet = args.quiet or not sys.stderr.isatty()
    return args


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
    qlayers.quantize_model(model, args.quant, args.keep, sub_ln=args.sub_ln, ttq_threshold=args.ttq_threshold,
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
    qlayers.set_progress(model, epoch / args.epochs)
    g = torch.Generator().manual_seed(args.seed * 1_000_003 + epoch)
    torch.manual_seed(args.seed * 1_000_003 + epoch)  # stochastic quantizers draw from the global generator
    rng = np.random.default_rng([args.seed, epoch])
    autocast = torch.autocast(args.device.split(":")[0], torch.bfloat16) if args.amp else nullcontext()
    total_loss, seconds, start = 0.0, 0.0, time.perf_counter()
    draws = datasets.epoch_draws(args, data, g, steps_per_epoch)
    bar = tqdm(datasets.train_batches(args, data, draws, steps_per_epoch, rank, world), total=steps_per_epoch,
               desc=f"epoch {epoch + 1}", leave=False, disable=args.quiet)
    for i, (x, y, partner) in enumerate(bar):
        x, y_mixed, lam = datasets.to_input(args, x, data), None, 1.0
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
        value = devices.mean_over_processes(loss.detach(), world).item()  # the step's one host sync
        if not math.isfinite(value):  # stop before the bad gradient reaches the weights
            raise Diverged(dict(diverged_epoch=epoch + 1, diverged_step=i + 1, last_finite_loss=state["last_loss"]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        qlayers.after_step(model, args.clip_factor)
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
    for x, y in datasets.test_batches(args, data, batch_size, rank, world):
        with autocast:
            logits = model(datasets.to_input(args, x, data)).float()
        top = logits.topk(k, 1).indices
        sums[0] += (top[:, 0] == y).sum()
        sums[1] += (top == y[:, None]).any(1).sum()
        sums[2] += F.cross_entropy(logits, y, reduction="sum")
        sums[3] += len(y)
    correct1, correct5, loss, n = (devices.mean_over_processes(sums, world) * world).tolist()
    return 100 * correct1 / n, 100 * correct5 / n, loss / n


def data_shape(args):
    """(classes, image size, channels) of the data train.py would train on: from datasets.FAKE_SHAPES where the
    dataset's shape is known, else read from the data."""
    if args.dataset in datasets.FAKE_SHAPES:
        classes, size, channels = datasets.FAKE_SHAPES[args.dataset]
        return classes, (args.fake_size or size) if args.fake_data else size, channels
    data = datasets.load_dataset(args.dataset, args.data_dir, args.seed)
    if data.get("streamed"):
        return data["num_classes"], 224, 3
    return data["num_classes"], data["train_x"].shape[-1], data["train_x"].shape[1]


def print_summary(args):
    """train.py --summary: the model of these resolved flags, built as train.py builds it, summarized; no data loaded
    for a dataset of known shape."""
    classes, size, channels = data_shape(args)
    model, stem = build(args, classes, size, channels)
    config = dict(vars(args), stem=stem, num_classes=classes, image_size=size, in_channels=channels)
    print(summary.as_text(summary.summarize(model, config)))
    return 0


def main(argv=None):
    args = resolve(parse_args(argv))
    if args.summary:
        return print_summary(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    run_dir = Path(args.out) / args.dataset / args.model / f"{args.tag}_s{args.seed}"
    previous = common.read_json(run_dir / "results.json")
    if previous and previous.get("status") == "completed":
        print(f"run: {run_dir} (completed; top-1 {previous.get('final_top1', float('nan')):.2f}%, nothing to do)")
        return 0
    rank, world = devices.setup_distributed(args)
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
    lock = run_folder.acquire_lock(run_dir)
    try:
        return train(args, run_dir, rank, world)
    except OSError as e:  # a full disk or a vanished folder while writing: the previous files are intact
        common.fail(f"cannot write to {run_dir} ({e.strerror or e}); the last good checkpoint is kept, rerun to resume")
    finally:
        run_folder.release_lock(lock)


def train(args, run_dir, rank=0, world=1):
    common.seed_everything(args.seed)
    main_process = rank == 0
    log = print if main_process else (lambda *a, **k: None)
    data = datasets.prepare_data(args)
    n_train, n_test = (len(data["train"]), len(data["test"])) if data.get("streamed") else (len(data["train_y"]), len(data["test_y"]))
    num_classes = data["num_classes"]
    image_size, in_channels = (224, 3) if data.get("streamed") else (data["train_x"].shape[-1], data["train_x"].shape[1])
    model, stem = build(args, num_classes, image_size, in_channels)
    config = dict(vars(args), stem=stem, num_classes=num_classes, image_size=image_size, in_channels=in_channels,
                  data_format=data.get("format"), run_dir=str(run_dir), torch_version=str(torch.__version__),
                  git_commit=run_folder.git_commit())
    saved = common.read_json(run_dir / "config.json")
    if saved:
        run_folder.check_same_run(saved, config)
    teacher = load_teacher(args.kd, config).to(args.device) if args.kd else None
    model.to(args.device)
    if args.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # fixed shapes: pick the fastest kernels once
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
        teacher = teacher.to(memory_format=torch.channels_last) if teacher is not None else None
    optimizer = make_optimizer(args, model)
    params, quantized_params, size_bytes, fp32_bytes = qlayers.model_size(model)
    if args.compile:
        from torch._dynamo.utils import counters
        counters.clear()  # compile_stats counts this run's graphs only
    forward = devices.compile_model(model) if args.compile else model  # compiled inside DDP: one graph, not DDP's splits
    if world > 1:
        forward = torch.nn.parallel.DistributedDataParallel(forward)
    teacher_forward = devices.compile_model(teacher) if args.compile and teacher is not None else teacher

    ckpt = run_folder.load_resume_state(run_dir)
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
        summary.write_summary(run_dir / "summary.md", model, config)

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
            if args.compile and devices.is_compile_error(e):
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
        run_folder.save_last(run_dir, dict(model=model.state_dict(), optimizer=optimizer.state_dict(), epoch=epoch + 1,
                                history=history, best=best, state=state, wall_seconds=wall,
                                torch_rng=torch.get_rng_state()))
        tqdm.write(f"epoch {epoch + 1}/{args.epochs}: loss {train_loss:.4f}, test top-1 {top1:.2f}%, "
                   f"top-5 {top5:.2f}%, {images_per_second:.0f} img/s, {seconds:.1f}s")
        common.write_json(run_dir / "results.json", dict(results, **summarize(args, history, best, wall),
                                                         **devices.compile_stats(args, teacher)))
    if not main_process:
        return 0
    results.update(summarize(args, history, best, wall), **devices.compile_stats(args, teacher), status="completed")
    common.write_json(run_dir / "results.json", results)
    (run_dir / "last.pt.prev").unlink(missing_ok=True)
    print(f"done: best top-1 {best['top1']:.2f}% (epoch {best['epoch']}), final top-1 {history[-1]['test_top1']:.2f}%"
          f" -> {run_dir}")
    return 0


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
