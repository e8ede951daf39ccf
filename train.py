"""Train one network, full precision or quantized, on one dataset, and write its run folder: the
model's build, the optimizer and schedule, the epoch's loop and evaluation, and a run's setup and
finish.

    python train.py --quant ttq --dataset cifar10 --seed 0
"""
import argparse
import math
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

import batches
import common
import datasets
import devices
import divergence
import dynamics
import flags
import models
import qlayers
import quant
import run_folder
import summary

# ------------------------------------------------------------------------ model, teacher, optimizer

def build(args, num_classes, image_size, in_channels, init=None):
    """The network of these flags, quantized as they say. init: the weights to start from
    (--init-from's state dict), loaded before quantizing so that quantizer state (TTQ scales, SR
    grid) starts from them."""
    stem = args.stem if args.stem != "auto" else ("cifar" if image_size <= 64 else "imagenet")
    model = models.build_model(args.model, num_classes, image_size, in_channels,
                               stem=stem, bn=args.bn, shortcut=args.shortcut)
    names = models.layer_names(model)
    missing = [k for k in args.keep if k not in names]
    if missing:
        top = sorted(n for n in names if "." not in n)
        common.fail(f"--keep names no conv or linear layer of {args.model}: {', '.join(missing)}; "
                    f"top-level layers: {', '.join(top)}")
    if init is not None:
        try:
            model.load_state_dict(init)
        except RuntimeError as e:
            detail = [line.strip() for line in str(e).splitlines() if line.strip()][1:2] or [str(e)]
            common.fail(f"--init-from {args.init_from} does not fit this {args.model} "
                        f"({detail[0][:200]})")
    qlayers.quantize_model(model, args.quant, args.keep, sub_ln=args.sub_ln,
                           ttq_threshold=args.ttq_threshold, wbits=args.wbits, abits=args.abits,
                           ste=args.ste, stochastic=args.stochastic, init_from=args.init_from,
                           bn=args.bn)
    return model, stem


def build_teacher(ckpt):
    """The KD teacher of a final.pt (run_folder.load_final has checked it), frozen in eval mode."""
    config = ckpt["config"]
    teacher = models.build_model(config["model"], config["num_classes"], config["image_size"],
                                 config.get("in_channels", 3), stem=config["stem"],
                                 bn=config.get("bn", True), shortcut=config.get("shortcut", "A"))
    teacher.load_state_dict(ckpt["model"])
    return teacher.eval().requires_grad_(False)


def make_optimizer(args, model):
    """Weights in one group; the quantizers' trained scales (TTQ's Wp, Wn) in a second one at
    lr * --scale-lr. From scratch no weight decay and 0.01: their gradient sums over a whole layer,
    so the weights' lr would flip their signs. Under --init-from the TTQ authors' fine-tuning: the
    weights' decay (and lr, by --scale-lr's default)."""
    scales = [p for n, p in model.named_parameters() if ".quantizer." in n]
    weights = [p for n, p in model.named_parameters() if ".quantizer." not in n]
    scale_decay = args.weight_decay if args.init_from else 0.0
    groups = [dict(params=weights, lr_scale=1.0),
              dict(params=scales, lr_scale=args.scale_lr, weight_decay=scale_decay)]
    # one kernel for all parameters on GPUs
    fused = dict(fused=True) if args.device.startswith("cuda") else {}
    if args.optimizer == "adam":
        return torch.optim.Adam(groups, lr=args.lr, weight_decay=args.weight_decay, **fused)
    return torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum,
                           weight_decay=args.weight_decay,
                           nesterov=args.nesterov and args.momentum > 0, **fused)


def lr_at(args, step, steps_per_epoch):
    """Linear warm-up, then cosine to min_lr or step decay at the milestones."""
    warmup = args.warmup_epochs * steps_per_epoch  # flags.resolve keeps it below the epochs
    if step < warmup:
        return args.lr * (step + 1) / warmup
    if args.schedule == "step":
        passed = [i for i, m in enumerate(args.milestones) if step >= m * steps_per_epoch]
        if isinstance(args.gamma, list):  # one factor per milestone
            return args.lr * math.prod(args.gamma[i] for i in passed)
        return args.lr * args.gamma ** len(passed)
    progress = (step - warmup) / max(1, args.epochs * steps_per_epoch - warmup)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * progress))


# ----------------------------------------------------------------------------- one epoch

def loss_fn(args, logits, y, y_mixed, lam, teacher_logits):
    ce = lambda target: F.cross_entropy(logits, target, label_smoothing=args.label_smoothing)
    loss = lam * ce(y) + (1 - lam) * ce(y_mixed) if lam < 1 else ce(y)
    if teacher_logits is not None:
        t = args.kd_temperature
        kl = F.kl_div(F.log_softmax(logits / t, 1), F.log_softmax(teacher_logits / t, 1),
                      reduction="batchmean", log_target=True)
        loss = args.kd_alpha * t * t * kl + (1 - args.kd_alpha) * loss
    return loss


def autocast(args):
    return torch.autocast(args.device.split(":")[0], torch.bfloat16) if args.amp else nullcontext()


def mixed_batch(args, data, batch, rng):
    """(input, targets, mixup partners' targets, lam) of a batch: mixup blends each image with its
    drawn partner, lam ~ Beta(a, a); without mixup lam is 1 and there are no partners."""
    x, y, partner = batch
    x = batches.to_input(args, x, data)
    if args.mixup == 0:
        return x, y, None, 1.0
    lam = float(rng.beta(args.mixup, args.mixup))
    return lam * x + (1 - lam) * x[partner], y, y[partner], lam


def forward_loss(run, x, y, y_mixed, lam):
    """(loss, logits) of a batch, under bf16 autocast with --amp; the KD teacher under no_grad."""
    with autocast(run.args):
        logits = run.forward(x)
        teacher_logits = None
        if run.teacher_forward is not None:
            with torch.no_grad():
                teacher_logits = run.teacher_forward(x).float()
        return loss_fn(run.args, logits.float(), y, y_mixed, lam, teacher_logits), logits


def epoch_generators(seed, epoch):
    """An epoch's random streams, all from (seed, epoch): a generator for the data's draws, numpy's
    for mixup, and the global generator, which the stochastic quantizers draw from, seeded apart
    (on the CPU one seed gives both torch generators the same numbers)."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    # the CPU generator keeps a seed's low 32 bits: a hashed 32-bit seed of its own
    torch.manual_seed(int(np.random.SeedSequence([seed, epoch, 1]).generate_state(1)[0]))
    return g, np.random.default_rng([seed, epoch])


def train_epoch(run, epoch, state):
    """One pass over a fresh permutation: (mean loss, images/s). Every random draw comes from
    generators seeded by (seed, epoch), so a resumed epoch repeats exactly. One host sync a step:
    the previous step's loss."""
    args, model, optimizer, steps = run.args, run.model, run.optimizer, run.steps_per_epoch
    model.train()
    qlayers.set_progress(model, epoch / args.epochs)
    g, rng = epoch_generators(args.seed, epoch)
    draws = batches.epoch_draws(args, run.data, g, steps)
    epoch_batches = batches.train_batches(args, run.data, draws, steps, run.rank, run.world)
    bar = tqdm(epoch_batches, total=steps, desc=f"epoch {epoch + 1}", leave=False,
               disable=args.quiet)
    total_loss, pending, start = 0.0, None, time.perf_counter()  # pending: last step's loss, unread
    for i, batch in enumerate(bar):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(args, state["step"], steps) * group["lr_scale"]
        loss, logits = forward_loss(run, *mixed_batch(args, run.data, batch, rng))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        qlayers.after_step(model, args.clip_factor)
        if run.dynamics:
            run.dynamics.after_step()
        state["step"] += 1
        if pending is not None:  # read once this step is queued: the device never waits on the host
            total_loss += divergence.check_step(pending, epoch, i, state, run.world)
            bar.set_postfix(loss=f"{state['last_loss']:.3f}")
        pending = torch.stack([loss.detach(), logits.detach().abs().amax().float()])
    # the last step's loss, before evaluation or saving
    total_loss += divergence.check_step(pending, epoch, steps, state, run.world)
    return total_loss / steps, steps * args.batch_size / max(time.perf_counter() - start, 1e-9)


@torch.no_grad()
def evaluate(args, model, data, batch_size=1024, rank=0, world=1):
    """Top-1, top-5 (percent) and mean loss over the whole test set, without autograd; each process
    takes its share and the sums are reduced, read back in one host sync."""
    model.eval()
    # top-1 hits, top-5 hits, loss, images
    sums = torch.zeros(4, dtype=torch.float64, device=args.device)
    k = min(5, data["num_classes"])
    for x, y in batches.test_batches(args, data, batch_size, rank, world):
        with autocast(args):
            logits = model(batches.to_input(args, x, data)).float()
        top = logits.topk(k, 1).indices
        sums[0] += (top[:, 0] == y).sum()
        sums[1] += (top == y[:, None]).any(1).sum()
        sums[2] += F.cross_entropy(logits, y, reduction="sum")
        sums[3] += len(y)
    correct1, correct5, loss, n = (devices.mean_over_processes(sums, world) * world).tolist()
    return 100 * correct1 / n, 100 * correct5 / n, loss / n


def data_shape(args):
    """(classes, image size, channels) of the data train.py would train on: from
    datasets.FAKE_SHAPES where the dataset's shape is known, else read from the data."""
    if args.dataset in datasets.FAKE_SHAPES:
        classes, size, channels = datasets.FAKE_SHAPES[args.dataset]
        return classes, (args.fake_size or size) if args.fake_data else size, channels
    data = datasets.load_dataset(args.dataset, args.data_dir, args.seed)
    if data.get("streamed"):
        return data["num_classes"], 224, 3
    return data["num_classes"], data["train_x"].shape[-1], data["train_x"].shape[1]


def print_summary(args):
    """train.py --summary: the model of these resolved flags, built as train.py builds it,
    summarized; no data loaded for a dataset of known shape."""
    classes, size, channels = data_shape(args)
    model, stem = build(args, classes, size, channels)
    config = dict(vars(args), stem=stem, num_classes=classes, image_size=size, in_channels=channels)
    print(summary.as_text(summary.layer_table(model, config)))
    return 0


def main(argv=None):
    args = flags.resolve(flags.parse_args(argv))
    if args.summary:
        return print_summary(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    run_dir = Path(args.out) / args.dataset / args.model / f"{args.tag}_s{args.seed}"
    saved = common.read_json(run_dir / "config.json")
    if saved:  # finished or not, a folder holds one run's settings: refused before loading anything
        run_folder.check_same_run(saved, planned_config(args), run_dir)
    previous = common.read_json(run_dir / "results.json")
    if previous and previous.get("status") == "completed":
        top1 = previous.get("report_top1", previous.get("final_top1", float("nan")))
        print(f"run: {run_dir} (completed; {(saved or {}).get('report', 'final')} top-1 {top1:.2f}%"
              f"{run_folder.commit_note(saved)}; nothing to do)")
        run_folder.final_from_last(run_dir, saved)
        run_folder.clear_stale_lock(run_dir)
        return 0
    rank, world = devices.setup_distributed(args)
    run = None
    try:
        run = setup(args, run_dir, saved, rank, world)
        return train(run) if rank > 0 else train_in_folder(run)  # rank 0 alone writes files
    except KeyboardInterrupt:  # last.pt holds the last completed epoch
        epoch = run.epoch if run and run.epoch is not None else 0
        where = f"in epoch {epoch + 1}" if epoch < args.epochs else "after the last epoch"
        if rank == 0:
            print(f"interrupted {where}; rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        devices.end_distributed(world)


def planned_config(args):
    """The settings of the flags alone, for the check before any data is loaded: an 'auto' stem is
    resolved from the data later, so it is compared then (setup)."""
    return {k: v for k, v in vars(args).items() if not (k == "stem" and v == "auto")}


def started_otherwise(saved, model, n_train):
    """What a saved run started with that this code no longer does, or None."""
    if "norm_mean" not in saved and n_train > datasets.NORM_SAMPLE:
        return "the normalization came from the first 10,000 training images"
    if qlayers.predates_image_as_is(saved, model):
        return f"{saved['quant']}'s first layer quantized the image"
    return None


def setup(args, run_dir, saved, rank, world):
    """Everything a run needs, every input checked (one line and exit 2 when wrong) before any file
    is written: a run that cannot start leaves no folder behind."""
    common.seed_everything(args.seed)
    data = batches.prepare_data(args)
    streamed = data.get("streamed")
    n_train = len(data["train"]) if streamed else len(data["train_y"])
    n_test = len(data["test"]) if streamed else len(data["test_y"])
    if n_train < args.batch_size:
        common.fail(f"--batch-size {args.batch_size} is larger than the {n_train} training images")
    steps_per_epoch = min(n_train // args.batch_size, args.steps_per_epoch or n_train)
    classes = data["num_classes"]
    image_size, in_channels = ((224, 3) if streamed
                               else (data["train_x"].shape[-1], data["train_x"].shape[1]))
    inputs = dict(num_classes=classes, image_size=image_size, data_format=data.get("format"))
    init = (run_folder.load_final(args.init_from, "--init-from", args, inputs)
            if args.init_from else None)
    teacher = run_folder.load_final(args.kd, "--kd", args, inputs) if args.kd else None
    model, stem = build(args, classes, image_size, in_channels, init and init["model"])
    config = dict(vars(args), stem=stem, num_classes=classes, image_size=image_size,
                  in_channels=in_channels, data_format=data.get("format"),
                  norm_mean=data["mean"].tolist(), norm_std=data["std"].tolist(),
                  init_from_epoch=init and init["epoch"], kd_epoch=teacher and teacher["epoch"],
                  init_from_digest=init and run_folder.weights_digest(init["model"]),
                  kd_digest=teacher and run_folder.weights_digest(teacher["model"]),
                  run_dir=str(run_dir), torch_version=str(torch.__version__),
                  git_commit=run_folder.git_commit(), quant_forward=qlayers.QUANT_FORWARD)
    if saved:  # again with the fields derived from the data (stem, image size, normalization)
        run_folder.check_same_run(saved, config, run_dir)
    if saved and streamed and saved.get("workers", args.workers) != args.workers:
        # each loader worker draws its images' crops and flips from a seed of its own
        common.fail(f"{run_dir} drew its crops and flips in --workers {saved['workers']}; resume "
                    "it with that count (another would draw other crops)")
    stale = saved and (run_dir / "last.pt").exists() and started_otherwise(saved, model, n_train)
    if stale:
        common.fail(f"{run_dir} was started when {stale}; resumed by this code it would go on "
                    "as another run: pass --tag NAME to train it anew")
    teacher = build_teacher(teacher).to(args.device) if teacher else None
    model.to(args.device)
    if args.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # fixed shapes: pick the fastest kernels once
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
        teacher = teacher.to(memory_format=torch.channels_last) if teacher is not None else None
    optimizer = make_optimizer(args, model)
    if args.compile:
        from torch._dynamo.utils import counters
        counters.clear()  # compile_stats counts this run's graphs only
    # compiled inside DDP: dynamo sees the model alone, one graph, so DDP all-reduces its gradient
    # buckets after the whole compiled backward (no overlap); compiling DDP would split the graph
    forward = devices.compile_model(model) if args.compile else model
    if world > 1:
        forward = torch.nn.parallel.DistributedDataParallel(forward)
    compile_teacher = args.compile and teacher is not None
    teacher_forward = devices.compile_model(teacher) if compile_teacher else teacher
    return SimpleNamespace(args=args, run_dir=run_dir, rank=rank, world=world, data=data,
                           n_train=n_train, n_test=n_test, steps_per_epoch=steps_per_epoch,
                           model=model, forward=forward, teacher=teacher,
                           teacher_forward=teacher_forward, optimizer=optimizer, config=config,
                           saved_config=saved, epoch=None)


# A run folder, OUT/<dataset>/<model>/<tag>_s<seed>/, holds config.json, results.json, last.pt
# (everything needed to resume, written every epoch), best.pt (the best epoch on the test set),
# final.pt (the last epoch's weights, written at completion: what --kd and --init-from take) and
# summary.md. The same command again resumes an unfinished run and skips a completed one; other
# settings are refused.
def train_in_folder(run):
    """Rank 0: create the run folder, hold its lock while training, and leave status 'failed' with
    the reason in results.json when training raises."""
    try:
        run.run_dir.mkdir(parents=True, exist_ok=True)
        probe = run.run_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        common.fail(f"cannot write to {run.run_dir}: {e.strerror}")
    lock = run_folder.acquire_lock(run.run_dir)
    try:
        return train(run)
    except OSError as e:  # a full disk or vanished folder mid-write: the previous files are intact
        common.fail(f"cannot write to {run.run_dir} ({e.strerror or e}); "
                    "the last good checkpoint is kept, rerun to resume")
    except Exception as e:
        compile_error = run.args.compile and devices.describe_compile_error(e)
        reason = compile_error or devices.exception_line(e)
        write_failed(run, reason)
        if compile_error:
            common.fail(f"torch.compile cannot compile this model ({reason}); "
                        "rerun with --no-compile to train it eagerly (it resumes this folder)")
        raise
    finally:
        run_folder.release_lock(lock)


def write_failed(run, reason):
    results = common.read_json(run.run_dir / "results.json") or {}
    epoch = min(run.epoch + 1, run.args.epochs) if run.epoch is not None else None
    common.write_json(run.run_dir / "results.json",
                      dict(results, status="failed", failed_epoch=epoch, message=reason))


def start(run):
    """Write config.json (a resumption is recorded in it; the original settings stay) and
    summary.md, and load last.pt when there is one: (history, best, first epoch, step state,
    wall seconds)."""
    args, model = run.args, run.model
    ckpt = run_folder.load_resume_state(run.run_dir)
    history, best, start_epoch, state, wall = ([], dict(top1=-1.0, epoch=0), 0,
                                               dict(step=0, last_loss=None), 0.0)
    if ckpt:
        model.load_state_dict(ckpt["model"])
        run.optimizer.load_state_dict(ckpt["optimizer"])
        history, best, start_epoch = ckpt["history"], ckpt["best"], ckpt["epoch"]
        state, wall = ckpt["state"], ckpt["wall_seconds"]
    recorded = args.dynamics == "on" and run.rank == 0  # rank 0 records for all
    run.dynamics = (dynamics.for_run(model, run.run_dir / "dynamics.jsonl",
                                     ckpt and ckpt.get("dynamics"), start_epoch, args)
                    if recorded else None)
    devices.check_same_epoch(start_epoch, run.world)
    params, quantized, size_bytes, fp32_bytes = qlayers.model_size(model)
    log = print if run.rank == 0 else (lambda *a, **k: None)
    resuming = f"resuming at epoch {start_epoch + 1}{run_folder.commit_note(run.saved_config)}"
    log(f"run: {run.run_dir} ({resuming if ckpt else 'new'})")
    stem_note = f" ({run.config['stem']} stem)" if args.model in models.STEMMED else ""
    log(f"{args.model}{stem_note}, {args.quant}, {params / 1e6:.2f}M parameters "
        f"({quantized / 1e6:.2f}M quantized), {size_bytes / 2**20:.2f} MB deployed; "
        f"{args.dataset}: {run.n_train} train / {run.n_test} test images on {args.device}"
        + (f" x {run.world} processes" if run.world > 1 else ""))
    run.epoch = start_epoch  # the epoch under way, for an interrupt's message
    if run.rank == 0:
        saved = run.saved_config if ckpt else None  # a folder without last.pt starts afresh
        config = (run_folder.record_resumption(saved, run.config, start_epoch + 1) if saved
                  else run.config)
        common.write_json(run.run_dir / "config.json", config)
        summary.write_summary(run.run_dir / "summary.md", model, run.config)
    run.results = dict(status="running", epochs=args.epochs, params=params,
                       quantized_params=quantized, model_size_bytes=size_bytes,
                       fp32_size_bytes=fp32_bytes, compression_ratio=fp32_bytes / size_bytes)
    return history, best, start_epoch, state, wall


def train(run):
    """The epochs not yet completed: train, evaluate, checkpoint, record; then the final weights."""
    args, model, run_dir = run.args, run.model, run.run_dir
    history, best, start_epoch, state, wall = start(run)
    for epoch in tqdm(range(start_epoch, args.epochs), desc="epochs", initial=start_epoch,
                      total=args.epochs, disable=args.quiet):
        run.epoch = epoch
        begin = time.perf_counter()
        try:
            train_loss, images_per_second = train_epoch(run, epoch, state)
            divergence.check_weights(model, epoch, run.steps_per_epoch, state)
        except divergence.Diverged as d:
            return diverged(run, d.args[0], epoch, history)
        devices.share_buffers(model, run.world)
        top1, top5, test_loss = evaluate(args, model, run.data, rank=run.rank, world=run.world)
        seconds = time.perf_counter() - begin
        if run.rank > 0:
            continue
        wall += seconds
        history.append(dict(epoch=epoch + 1, train_loss=train_loss, test_loss=test_loss,
                            test_top1=top1, test_top5=top5, lr=run.optimizer.param_groups[0]["lr"],
                            seconds=seconds, images_per_second=images_per_second))
        if run.dynamics:  # before last.pt: a kill between the two repeats the line, cut on resume
            history[-1]["dynamics"], layers = run.dynamics.read()
            dynamics.append_log(run_dir / "dynamics.jsonl", epoch + 1, layers)
        if top1 > best["top1"]:
            best = dict(top1=top1, top5=top5, epoch=epoch + 1)
            common.save_checkpoint(run_dir / "best.pt", dict(kind="best", model=model.state_dict(),
                                                              config=run.config, **best))
        run_folder.save_last(run_dir, dict(model=model.state_dict(),
                                           optimizer=run.optimizer.state_dict(),
                                           epoch=epoch + 1, history=history, best=best, state=state,
                                           wall_seconds=wall, torch_rng=torch.get_rng_state(),
                                           dynamics=run.dynamics and run.dynamics.state_dict()))
        tqdm.write(f"epoch {epoch + 1}/{args.epochs}: loss {train_loss:.4f}, "
                   f"test top-1 {top1:.2f}%, top-5 {top5:.2f}%, "
                   f"{images_per_second:.0f} img/s, {seconds:.1f}s")
        figures = dict(run_folder.results_from_history(args, history, best, wall),
                       **devices.compile_stats(args, run.teacher, run.dynamics))
        common.write_json(run_dir / "results.json", dict(run.results, **figures))
    run.epoch = args.epochs
    return finish(run, history, best, wall) if run.rank == 0 else 0


def finish(run, history, best, wall):
    """final.pt (the last epoch's weights, for --kd and --init-from), then status 'completed'."""
    last = history[-1]
    common.save_checkpoint(run.run_dir / "final.pt",
                           dict(kind="final", model=run.model.state_dict(), config=run.config,
                                epoch=last["epoch"], top1=last["test_top1"],
                                top5=last["test_top5"]))
    results = dict(run.results, **run_folder.results_from_history(run.args, history, best, wall),
                   **devices.compile_stats(run.args, run.teacher, run.dynamics), status="completed")
    common.write_json(run.run_dir / "results.json", results)
    (run.run_dir / "last.pt.prev").unlink(missing_ok=True)
    print(f"done: best top-1 {best['top1']:.2f}% (epoch {best['epoch']}), "
          f"final top-1 {last['test_top1']:.2f}% -> {run.run_dir}")
    return 0


def diverged(run, info, epoch, history):
    if run.rank > 0:
        return 1
    reason = info.pop("reason")  # in the message only: aggregate.py's "reason" is the run's status
    results = dict(run.results, status="diverged", epochs_completed=epoch, history=history, **info,
                   message=f"{reason} at epoch {info['diverged_epoch']}, "
                           f"step {info['diverged_step']}")
    common.write_json(run.run_dir / "results.json", results)
    print(f"error: run diverged: {results['message']} "
          f"(last finite loss {info['last_finite_loss']})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
