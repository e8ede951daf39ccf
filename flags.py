"""train.py's command line: every flag with its default, the checks of their values (one clear
line and exit code 2 for a name, number or combination that cannot work), the defaults that depend
on the device and dataset, and a run's default name.
"""
import argparse
import os
import sys
from pathlib import Path

import torch

import batches
import common
import datasets
import devices
import estimators
import models
import qlayers
import quant

MIXUP_SMOOTHING_DATASETS = ("cifar10", "tiny-imagenet")  # mixup and label smoothing by default


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown after every flag's help, except where the help says it in words: a --no-X
    switch (its True would read as 'on') and a default that depends on the dataset or device (None
    would read as 'none')."""

    def _get_help_string(self, action):
        switch_off = action.nargs == 0 and action.default is True and action.const is False
        if switch_off or (action.default in (None, "") and "default" in (action.help or "")):
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train one network, full precision or quantized, "
                                            "on one dataset, and write its run folder.",
                                formatter_class=HelpFormatter,
                                allow_abbrev=False)  # --batch 256 would pass scripts' checks
    a = p.add_argument
    a("--model", default="resnet18", help=f"one of: {', '.join(models.MODELS)}")
    a("--dataset", default="cifar10", help=f"one of: {', '.join(datasets.DATASETS)}")
    a("--data-dir", default="./data", help="where datasets live (and are downloaded to)")
    a("--fake-data", action="store_true",
      help="replace the images by generated ones with the dataset's shape and class count "
           "(offline checks)")
    a("--fake-size", type=int, default=None,
      help="--fake-data image size, 8 to 512 (default: the dataset's own)")
    a("--quant", default="fp32", help=f"one of: {', '.join(quant.METHODS)}")
    a("--stem", default="auto", choices=["auto", "cifar", "imagenet"],
      help="ResNet-18/50 stem; auto: cifar (3x3/1, no max-pool) up to 64 px, "
           "imagenet (7x7/2 + max-pool) above")
    a("--keep", default="",
      help="comma-separated layers kept in full precision, e.g. conv1,layer1,fc (default: none)")
    a("--fp32-conv1", action="store_true", help="shorthand for --keep conv1")
    a("--no-sub-ln", dest="sub_ln", action="store_false", default=None,
      help="bitnet: drop the LayerNorm before activation quantization (kept by default)")
    a("--ttq-threshold", type=float, default=None,
      help="ttq: delta = t * max|w| per layer (default: 0.05)")
    a("--scale-lr", type=float, default=None,
      help="ttq: the scales' lr as a fraction of --lr; default 0.01 from scratch (no weight "
           "decay), 1 under --init-from (with the weights' decay, as the TTQ authors fine-tuned)")
    a("--wbits", type=int, default=None,
      help="weight bits for xnor, twn (default 2), dorefa and qnn (required; 32: full precision)")
    a("--abits", type=int, default=None,
      help="activation bits for xnor (default 32), dorefa and qnn (required; 32: full precision)")
    a("--ste", default=None,
      help=f"backward of sign/ternary for twn, bc, xnor, qnn: {', '.join(estimators.SURROGATES)} "
           "(default: each method's own)")
    a("--stochastic", action="store_true",
      help="bc: stochastic binarization (+1 with p = clip((w+1)/2, 0, 1))")
    a("--clip-factor", type=float, default=None,
      help="after every step clip each quantized layer's latent weights to [-f*std(W), f*std(W)] "
           "(default: no clipping)")
    a("--no-bn", dest="bn", action="store_false",
      help="replace batch norm by the identity (BN ablation; batch norm is on by default)")
    a("--shortcut", default="A", choices=["A", "B"],
      help="ResNet-20..56, WRN: A = zero-padded identity, B = 1x1 projection where shapes change "
           "(the pre-activation ResNets have their authors' shortcut only)")
    a("--init-from", default=None, metavar="FINAL_PT",
      help="start from a full-precision run's final weights (its final.pt, written when it "
           "completes; default: random initialization)")
    a("--dynamics", default="on", choices=["on", "off"],
      help="record the quantized weights' flips, oscillations, levels, gradients and scales every "
           "epoch (results.json's history, dynamics.jsonl); changes no trained number")
    a("--report", default="final", choices=["final", "best", "ttq-avg"],
      help="report_top1: final epoch, best epoch, or the mean of the last 10 epochs "
           "(our reading of the TTQ paper's average over all epochs)")
    a("--kd", default=None, metavar="TEACHER_FINAL_PT",
      help="distil from a full-precision run's final weights "
           "(its final.pt; default: no distillation)")
    a("--kd-temperature", type=float, default=None, help="KD: softmax temperature T (default: 4)")
    a("--kd-alpha", type=float, default=None,
      help="loss = alpha*T^2*KL(teacher/T || student/T) + (1-alpha)*CE (Hinton et al. 2015) "
           "(default: 0.9)")
    a("--seed", type=int, default=0, help="seeds the weights, the data order and every random draw")
    a("--epochs", type=int, default=300, help="training epochs")
    a("--batch-size", type=int, default=128,
      help="images per step (over all processes under torchrun)")
    a("--optimizer", default="sgd", choices=["sgd", "adam"], help="optimizer of the weights")
    a("--lr", type=float, default=0.1, help="peak learning rate")
    a("--momentum", type=float, default=None, help="SGD momentum (default 0.9)")
    a("--nesterov", action=argparse.BooleanOptionalAction, default=None,
      help="SGD: Nesterov momentum (on by default)")
    a("--weight-decay", type=float, default=5e-4,
      help="L2 weight decay of the weights (of TTQ's scales too under --init-from)")
    a("--schedule", default="cosine", choices=["cosine", "step"],
      help="learning-rate schedule after warm-up")
    a("--milestones", default=None,
      help="step schedule: epochs at which lr is multiplied by --gamma (default: 150,225)")
    a("--gamma", default=None,
      help="step schedule: the lr's factor at every milestone, or one per milestone (e.g. "
           "0.1,0.1,0.2) (default: 0.1)")
    a("--warmup-epochs", type=int, default=None,
      help="linear warm-up epochs (default: 5, or epochs - 1 when the run is shorter)")
    a("--min-lr", type=float, default=None, help="cosine schedule's final lr (default: 1e-05)")
    a("--augment", default="auto", choices=["auto", *batches.AUGMENTS],
      help="training images on the device: crop-flip (a random crop of the image zero-padded by "
           "1/8 of its side, flipped horizontally half the time), reflect-crop-flip (the same "
           "with the image padded by its mirror image: the results table's CIFAR-10 recipe), "
           "rotate-crop (the results table's MNIST recipe: turned up to 10 degrees either way, "
           "then a random crop of the image zero-padded by 4 pixels) or none; auto: none on "
           "mnist, crop-flip elsewhere (imagenet: its loader's)")
    a("--normalize", default="channel", choices=["channel", "pixel"],
      help="inputs: channel = (x - mean) / std per channel of the training set; pixel = the TTQ "
           "authors' (x - the training set's per-pixel mean) / 128 - 1")
    a("--mixup", type=float, default=None,
      help="mixup alpha; default 0.2 on cifar10 and tiny-imagenet, else 0")
    a("--label-smoothing", type=float, default=None,
      help="default 0.1 on cifar10 and tiny-imagenet, else 0")
    a("--out", default="results/raw", help="results root")
    a("--tag", default=None,
      help="run name; default built from the configuration, e.g. bitnet_keep-conv1_kd")
    a("--steps-per-epoch", type=int, default=None,
      help="cap on training steps per epoch (smoke runs, benchmarks; "
           "default: the whole training set)")
    a("--device", default="auto", help="auto (cuda when present), cpu, cuda, cuda:1, ...")
    a("--workers", type=int, default=8,
      help="DataLoader worker processes (imagenet only; the others live in memory); they draw "
           "the crops, so a run resumes with its own count")
    a("--threads", type=int, default=0, help="CPU threads for torch (0: torch's default)")
    a("--amp", action=argparse.BooleanOptionalAction, default=None,
      help="bf16 autocast; default on for cuda")
    a("--channels-last", action=argparse.BooleanOptionalAction, default=None,
      help="NHWC memory; default on for cuda, and on a CPU for the ResNets (measured faster there)")
    a("--compile", action=argparse.BooleanOptionalAction, default=None,
      help="torch.compile the model as one graph (a model it cannot compile is an error); "
           "default on for cuda")
    a("--quiet", action="store_true",
      help="no progress bars (they are off anyway when not on a terminal)")
    a("--summary", action="store_true",
      help="print the model's per-layer summary (bits, bytes, MACs), train nothing")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- the checks

# flag -> (the test its value must pass, what the value must be); None (not given) passes
NUMBER_RULES = {
    "epochs": (lambda v: v >= 1, "at least 1"),
    "batch_size": (lambda v: v >= 1, "at least 1"),
    "steps_per_epoch": (lambda v: v >= 1, "at least 1"),
    "lr": (lambda v: v > 0, "positive"),
    "min_lr": (lambda v: v >= 0, "at least 0"),
    "weight_decay": (lambda v: v >= 0, "at least 0"),
    "momentum": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "warmup_epochs": (lambda v: v >= 0, "at least 0"),
    "mixup": (lambda v: v >= 0, "at least 0 (0: no mixup)"),
    "label_smoothing": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "kd_temperature": (lambda v: v > 0, "positive"),
    "kd_alpha": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "ttq_threshold": (lambda v: 0 < v < 1, "in (0, 1)"),
    "scale_lr": (lambda v: v > 0, "positive"),
    "clip_factor": (lambda v: v > 0, "positive"),
    "fake_size": (lambda v: 8 <= v <= 512, "from 8 to 512"),  # 256 images: 200 MB at 512
    "workers": (lambda v: v >= 0, "at least 0"),
    "threads": (lambda v: v >= 0, "at least 0"),
}


def check_numbers(args):
    """One line and exit 2 for a number no run can use, before anything is loaded or written."""
    for name, (ok, rule) in NUMBER_RULES.items():
        value = getattr(args, name)
        if value is not None and not ok(value):
            common.fail(f"--{name.replace('_', '-')} must be {rule}, got {value:g}")
    if args.warmup_epochs is not None and args.warmup_epochs >= args.epochs:
        common.fail(f"--warmup-epochs {args.warmup_epochs} leaves no epoch after the warm-up of "
                    f"--epochs {args.epochs}; give fewer warm-up epochs")
    check_schedule_flags(args)
    try:
        args.milestones = [int(m) for m in str(args.milestones).split(",") if m]
    except ValueError:
        common.fail(f"--milestones takes comma-separated epochs, got '{args.milestones}'")
    if any(m < 1 for m in args.milestones):
        common.fail("--milestones are epochs, at least 1, "
                    f"got {','.join(map(str, args.milestones))}")
    args.gamma = parse_gamma(str(args.gamma), len(args.milestones))


def refuse_unless(flags, choice, wanted, actual):
    """Flags given that act only under `choice wanted` would be ignored under another: refused."""
    if flags and actual != wanted:
        verb = "apply" if len(flags) > 1 else "applies"
        common.fail(f"{' and '.join(flags)} {verb} to {choice} {wanted}; this run's is {actual}")


def check_schedule_flags(args):
    """A step schedule's flags under cosine, or cosine's under step, would be ignored: refused;
    then their defaults."""
    given = {"step": [f for f in ("milestones", "gamma") if getattr(args, f) is not None],
             "cosine": ["min_lr"] if args.min_lr is not None else []}
    for schedule, names in given.items():
        flags = ["--" + n.replace("_", "-") for n in names]
        refuse_unless(flags, "--schedule", schedule, args.schedule)
    if args.schedule == "step" and args.milestones is None and args.epochs <= 150:
        common.fail(f"--schedule step's default milestones 150,225 (of 300 epochs) are not "
                    f"within --epochs {args.epochs}: the lr would never drop; give --milestones")
    args.milestones = "150,225" if args.milestones is None else args.milestones
    args.gamma = "0.1" if args.gamma is None else args.gamma
    args.min_lr = 1e-5 if args.min_lr is None else args.min_lr


def parse_gamma(text, milestones):
    """--gamma as one factor (a float) or one per milestone (a list)."""
    try:
        factors = [float(f) for f in text.split(",")]
    except ValueError:
        common.fail(f"--gamma takes a factor or comma-separated factors, got '{text}'")
    if not all(0 < f <= 1 for f in factors):
        common.fail(f"--gamma factors must be in (0, 1], got {text}")
    if len(factors) > 1 and len(factors) != milestones:
        common.fail(f"--gamma gives {len(factors)} factors for {milestones} milestones; give one, "
                    "or one per milestone")
    return factors[0] if len(factors) == 1 else factors


def check_device(device):
    """A CUDA device that is not there is an error, never a silent run on the CPU."""
    if device == "cpu":
        return
    kind, _, index = device.partition(":")
    if kind != "cuda" or not (index or "0").isdigit():
        common.fail(f"--device takes auto, cpu, cuda or cuda:N, got '{device}'")
    if not torch.cuda.is_available():
        common.fail(f"--device {device}: no CUDA GPU is visible (torch {torch.__version__}); "
                    "pass --device cpu to train on the CPU")
    if int(index or 0) >= torch.cuda.device_count():
        common.fail(f"--device {device}: only {torch.cuda.device_count()} GPU(s) are visible")


def auto_device():
    """--device auto: cuda when a GPU is visible, else the CPU, unless a launcher assigned this run
    a GPU (CUDA_VISIBLE_DEVICES names one: run_all.sh --gpus, Slurm's --gres) that torch cannot
    see."""
    if torch.cuda.is_available():
        return "cuda"
    assigned = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    if assigned and assigned != "-1":
        common.fail(f"CUDA_VISIBLE_DEVICES={assigned} assigns this run a GPU, "
                    f"but torch {torch.__version__} (CUDA {torch.version.cuda}) sees none: "
                    "no such GPU, or a driver older than that CUDA; "
                    "pass --device cpu to train on the CPU")
    return "cpu"


def default_augment(dataset):
    return "none" if dataset in batches.NO_CROP_FLIP_DATASETS else "crop-flip"


def check_augment(args):
    """A streamed dataset is augmented in its loader's workers: no other recipe can apply there."""
    streamed = args.dataset in batches.LOADER_AUGMENTED_DATASETS
    if streamed and args.augment not in ("auto", "crop-flip"):
        common.fail(f"--augment {args.augment} cannot apply to {args.dataset}: its images are "
                    "cropped and flipped in its loader's workers (--augment auto or crop-flip)")
    if streamed and args.normalize == "pixel":
        common.fail(f"--normalize pixel needs images of one size in memory; {args.dataset} is "
                    "streamed (--normalize channel)")


# flags that act only with one method or with --kd: (method or None for --kd, default)
ONLY_WITH = {"ttq_threshold": ("ttq", 0.05), "scale_lr": ("ttq", None), "sub_ln": ("bitnet", True),
             "kd_temperature": (None, 4.0), "kd_alpha": (None, 0.9)}


def check_method_flags(args):
    """A method's flag on another method, a KD flag without --kd, or a quantized-layer flag on
    fp32 would be ignored, and --no-bn on XNOR-Net 1/1 would keep its block's batch norm: refused;
    then their defaults (scale_lr's depends on --init-from, resolved after)."""
    for name, (method, default) in ONLY_WITH.items():
        given = getattr(args, name) is not None
        flag = "--no-sub-ln" if name == "sub_ln" else "--" + name.replace("_", "-")
        if given and method and args.quant != method:
            common.fail(f"{flag} applies to --quant {method}; this run's is {args.quant}")
        if given and not method and not args.kd:
            common.fail(f"{flag} applies to knowledge distillation: give --kd TEACHER too")
        setattr(args, name, default if not given else getattr(args, name))
    if args.quant == "fp32" and (args.keep or args.clip_factor):
        common.fail("--keep, --fp32-conv1 and --clip-factor act on quantized layers; every layer "
                    "of --quant fp32 is full precision already")
    if args.quant == "xnor" and args.abits == 1 and not args.bn:
        common.fail("--no-bn would keep XNOR-Net's own batch norm, the first step of each binary "
                    "block (BN -> sign -> conv): not a network without batch norm; train it with "
                    "batch norm, or with --abits 32")


def check_optimizer_flags(args):
    """--momentum and --nesterov are SGD's: given with Adam, which would ignore them, refused
    (--no-nesterov says what Adam does); then SGD's defaults, recorded as runs always had them."""
    given = [flag for flag, on in (("--momentum", args.momentum is not None),
                                   ("--nesterov", args.nesterov is True)) if on]
    refuse_unless(given, "--optimizer", "sgd", args.optimizer)
    args.momentum = 0.9 if args.momentum is None else args.momentum
    args.nesterov = True if args.nesterov is None else args.nesterov


def check_model_choices(args):
    """--shortcut or --stem on a network that has no such choice would be ignored: refused."""
    if args.shortcut != "A" and args.model not in models.SHORTCUT_CHOICE:
        common.fail(f"--shortcut {args.shortcut} applies to {', '.join(models.SHORTCUT_CHOICE)}; "
                    f"{args.model} has its own shortcut")
    if args.stem != "auto" and args.model not in models.STEMMED:
        common.fail(f"--stem {args.stem} applies to {', '.join(models.STEMMED)}; "
                    f"{args.model} has its own stem")


def resolve(args):
    """Check names, numbers and combinations (one line and exit 2 when wrong); fill in defaults."""
    for value, registry, what in ((args.model, models.MODELS, "model"),
                                  (args.dataset, datasets.DATASETS, "dataset"),
                                  (args.quant, quant.METHODS, "quantizer")):
        if value not in registry:
            common.fail(f"unknown {what} '{value}'; choose one of: {', '.join(registry)}")
    args.keep = [k for k in args.keep.split(",") if k] + (["conv1"] if args.fp32_conv1 else [])
    args.keep = list(dict.fromkeys(args.keep))
    problem = qlayers.check_options(args.quant, args.wbits, args.abits, args.ste, args.stochastic)
    if problem:
        common.fail(problem)
    for flag, path in (("--init-from", args.init_from), ("--kd", args.kd)):
        if path and not Path(path).is_file():
            common.fail(f"{flag} {path} not found; train that run first, "
                        "or rerun its command if it completed before runs wrote final.pt "
                        "(the rerun writes it from last.pt)")
    if args.fake_size is not None and not args.fake_data:
        common.fail("--fake-size sizes --fake-data's generated images; without --fake-data it "
                    "would be ignored")
    if args.fake_data and args.dataset not in datasets.FAKE_SHAPES:
        common.fail("--fake-data needs a dataset of known shape: "
                    f"{', '.join(datasets.FAKE_SHAPES)}")
    check_numbers(args)
    warmup = args.warmup_epochs
    args.warmup_epochs = min(5, args.epochs - 1) if warmup is None else warmup
    check_augment(args)
    check_model_choices(args)
    check_method_flags(args)
    check_optimizer_flags(args)
    args.scale_lr = default_scale_lr(args) if args.scale_lr is None else args.scale_lr
    args.augment = default_augment(args.dataset) if args.augment == "auto" else args.augment
    mix = args.dataset in MIXUP_SMOOTHING_DATASETS
    args.mixup = (0.2 if mix else 0.0) if args.mixup is None else args.mixup
    smoothing = args.label_smoothing
    args.label_smoothing = (0.1 if mix else 0.0) if smoothing is None else smoothing
    if args.device == "auto":
        args.device = auto_device()
    check_device(args.device)
    on_cuda = args.device.startswith("cuda")
    args.amp = on_cuda if args.amp is None else args.amp
    if args.channels_last is None:
        args.channels_last = devices.default_channels_last(args.device, args.model)
    args.compile = on_cuda if args.compile is None else args.compile
    args.tag = args.tag or default_tag(args)
    args.world_size = int(os.environ.get("WORLD_SIZE", "1"))  # torchrun's process count
    args.quiet = args.quiet or not sys.stderr.isatty()
    return args


def default_scale_lr(args):
    """TTQ's scales: 0.01 x the lr from scratch, the weights' lr when fine-tuning (--init-from)."""
    return 1.0 if args.init_from else 0.01


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
    if args.augment != default_augment(args.dataset):
        parts.append(args.augment)
    if args.clip_factor:
        parts.append(f"clip{args.clip_factor:g}")
    if not args.bn:
        parts.append("nobn")
    if args.shortcut != "A":
        parts.append(f"shortcut{args.shortcut}")
    if args.normalize != "channel":
        parts.append(f"norm-{args.normalize}")
    if args.kd:
        parts.append("kd")
    if args.quant == "ttq" and args.scale_lr != default_scale_lr(args):
        parts.append(f"scale-lr{args.scale_lr:g}")
    if args.batch_size != 128:
        parts.append(f"bs{args.batch_size}")
    return "_".join(parts)
