"""Training-speed benchmark of models x quantizers, and a GPU-hour projection of the study.

Holds: the timing of full training steps (crop/flip + normalize, forward, backward, SGD step,
quant.after_step) for every model x quantizer on one random uint8 batch, each configuration in a
fresh subprocess so its peak memory is its own; ratios to FP32 on the same model; --concurrent K
(K copies of a configuration at once, aggregate images/s); --study (measured rates turned into
GPU-hours of the 153-run study, assuming one run per GPU at the measured rate).
Does not hold: training to accuracy, real data loading, or any change to models or quantizers.

    python bench.py --models resnet20,resnet18 --quants fp32,bitnet,ttq --steps 10 --repeats 3
    python bench.py --study --steps 1 --repeats 1
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F

import common
import models
import quant

NUM_CLASSES = 10
MEAN, STD = [125.3, 123.0, 113.9], [63.0, 62.1, 66.7]  # CIFAR-10's statistics; any values time the same
BITS = {"xnor": (1, 1), "dorefa": (2, 2)}  # (wbits, abits) each quantizer is timed at; the others take none


# ----------------------------------------------------------------------------- command line

def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Time training steps of models x quantizers; project the study's GPU-hours.")
    a = p.add_argument
    a("--models", default="resnet20,resnet18", help="comma-separated model names")
    a("--quants", default="fp32,bitnet,ttq,twn,xnor,dorefa", help="comma-separated quantizer names")
    a("--batch-size", type=int, default=128)
    a("--image-size", type=int, default=32)
    a("--steps", type=int, default=10, help="timed steps per repeat")
    a("--warmup", type=int, default=3, help="untimed steps first")
    a("--repeats", type=int, default=3, help="timed windows; the median is reported")
    a("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    a("--amp", action=argparse.BooleanOptionalAction, default=None, help="bf16 autocast; default on for cuda")
    a("--compile", action="store_true", help="torch.compile the model (eager with a note when it fails)")
    a("--study", action="store_true", help="measure resnet18/50 x fp32/bitnet/ttq x 32/64 px and project the study")
    a("--concurrent", type=int, default=1, help="run K copies of each configuration at once; aggregate images/s")
    a("--out", default="results/bench", help="folder for <device-name>.json")
    a("--one", help=argparse.SUPPRESS)  # internal: time one configuration (JSON) and print the result as JSON
    return p.parse_args(argv)


def resolve(args):
    """Check names and numbers (one line and exit 2 when wrong); fill in the device defaults."""
    args.models = [m for m in args.models.split(",") if m]
    args.quants = [q for q in args.quants.split(",") if q]
    for values, registry, what in ((args.models, models.MODELS, "model"), (args.quants, quant.METHODS, "quantizer")):
        for v in values:
            if v not in registry:
                common.fail(f"unknown {what} '{v}'; choose one of: {', '.join(registry)}")
    for name, low in (("batch_size", 1), ("image_size", 8), ("steps", 1), ("warmup", 0), ("repeats", 1), ("concurrent", 1)):
        if getattr(args, name) < low:
            common.fail(f"--{name.replace('_', '-')} must be at least {low}")
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        common.fail(f"--device {args.device}: no CUDA device is available here; use --device cpu")
    if not (args.device == "cpu" or args.device.startswith("cuda")):
        common.fail(f"unknown device '{args.device}'; use auto, cpu, cuda or cuda:N")
    args.amp = args.device.startswith("cuda") if args.amp is None else args.amp
    return args


# ----------------------------------------------------------------------------- one configuration (child side)

def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def current_rss_kb():
    # resident memory now (Linux); elsewhere the peak so far is the best baseline there is
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def timed(fn, steps, repeats, device):
    """Median seconds per call of fn over `repeats` windows of `steps` calls, each closed by a sync."""
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        sync(device)
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def build(cfg):
    model = models.build_model(cfg["model"], num_classes=NUM_CLASSES, image_size=cfg["image_size"], stem=cfg["stem"])
    wbits, abits = BITS.get(cfg["quant"], (None, None))
    quant.quantize_model(model, cfg["quant"], keep=[], wbits=wbits, abits=abits)
    model.to(cfg["device"])
    if cfg["device"].startswith("cuda"):  # as train.py does on CUDA
        model.to(memory_format=torch.channels_last)
    return model


def make_batch(cfg):
    g = torch.Generator().manual_seed(0)  # the same images and labels in every configuration
    s = cfg["image_size"]
    x = torch.randint(0, 256, (cfg["batch_size"], 3, s, s), generator=g, dtype=torch.uint8)
    y = torch.randint(0, NUM_CLASSES, (cfg["batch_size"],), generator=g)
    return x.to(cfg["device"]), y.to(cfg["device"])


def augment(cfg, x, g):
    """train.py's input path: crop with 1/8 padding and flip, normalize, channels_last on CUDA."""
    x = common.normalize(common.random_crop_flip(x, g, cfg["image_size"] // 8), MEAN, STD, torch.float32)
    return x.contiguous(memory_format=torch.channels_last) if cfg["device"].startswith("cuda") else x


def wait_for_copies(cfg):
    # --concurrent: every copy finishes its warm-up before any starts timing, so the windows overlap
    if not cfg.get("barrier"):
        return
    Path(cfg["barrier"], str(os.getpid())).touch()
    deadline = time.time() + 600
    while len(os.listdir(cfg["barrier"])) < cfg["copies"] and time.time() < deadline:
        time.sleep(0.01)


def measure(cfg):
    """Time one configuration in this process: train step, augmentation alone and an eval forward."""
    torch.manual_seed(0)
    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    device, cuda = cfg["device"], cfg["device"].startswith("cuda")
    model = build(cfg)
    x, y = make_batch(cfg)
    g = torch.Generator().manual_seed(1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True)
    autocast = torch.autocast(device.split(":")[0], torch.bfloat16) if cfg["amp"] else nullcontext()
    net = model
    if cfg["compile"]:
        net = torch.compile(model)

    def step():
        with autocast:
            loss = F.cross_entropy(net(augment(cfg, x, g)).float(), y)
        loss.item()  # train.py reads every loss (its divergence check), which syncs
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        quant.after_step(model)

    base_kb = current_rss_kb()
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    try:
        step()  # the first step compiles, when asked
    except Exception as e:
        if not cfg["compile"]:
            raise
        print(f"note: torch.compile failed ({type(e).__name__}: {str(e).splitlines()[0][:160]}); timing eager",
              file=sys.stderr)
        net = model
        step()
    for _ in range(cfg["warmup"]):
        step()
    wait_for_copies(cfg)
    step_s = timed(step, cfg["steps"], cfg["repeats"], device)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    memory_mb = torch.cuda.max_memory_allocated(device) / 2**20 if cuda else (peak_kb - base_kb) / 1024

    aug_s = timed(lambda: augment(cfg, x, g), cfg["steps"], cfg["repeats"], device)
    model.eval()  # evaluation (and a KD teacher) is a no-grad forward in eval mode
    clean = common.normalize(x, MEAN, STD, torch.float32)
    clean = clean.contiguous(memory_format=torch.channels_last) if cuda else clean
    with torch.no_grad(), autocast:
        net(clean)  # warm-up (and recompile for eval mode)
        forward_s = timed(lambda: net(clean), cfg["steps"], cfg["repeats"], device)
    bs = cfg["batch_size"]
    return dict(images_s=bs / step_s, ms_step=1000 * step_s, mem_mb=memory_mb, peak_rss_mb=peak_kb / 1024,
                aug_ms=1000 * aug_s, aug_share=aug_s / step_s, eval_images_s=bs / forward_s,
                forward_share=forward_s / step_s)


# ----------------------------------------------------------------------------- running configurations (parent side)

def config(args, model, quant_name, image_size=None, stem="cifar"):
    return dict(model=model, quant=quant_name, stem=stem, image_size=image_size or args.image_size,
                batch_size=args.batch_size, steps=args.steps, warmup=args.warmup, repeats=args.repeats,
                device=args.device, amp=args.amp, compile=args.compile)


def run_copies(cfg, copies):
    """Time cfg in `copies` fresh subprocesses at once (peak memory per configuration); one result row."""
    with tempfile.TemporaryDirectory() as barrier:
        if copies > 1:  # share the CPU cores between the copies instead of oversubscribing them
            cfg = dict(cfg, barrier=barrier, copies=copies,
                       threads=max(1, torch.get_num_threads() // copies) if cfg["device"] == "cpu" else None)
        procs = [subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--one", json.dumps(cfg)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(copies)]
        outputs = [p.communicate() for p in procs]
    row = {k: cfg[k] for k in ("model", "quant", "stem", "image_size", "batch_size")}
    row["copies"] = copies
    failed = [err for p, (_, err) in zip(procs, outputs) if p.returncode != 0]
    if failed:  # e.g. out of memory: report it in the table rather than lose the other rows
        lines = [l for l in failed[0].strip().splitlines() if l.strip()]
        return dict(row, error=lines[-1][:200] if lines else "child process failed")
    for _, err in outputs:
        sys.stderr.write("".join(l + "\n" for l in err.splitlines() if l.startswith("note:")))
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    row.update({k: statistics.median(r[k] for r in results) for k in results[0]})
    row["images_s"] = sum(r["images_s"] for r in results)  # aggregate throughput of the copies
    row["mem_mb"] = sum(r["mem_mb"] for r in results)  # the copies share one device
    return row


def add_ratios(rows):
    """Step time and memory of each row over the FP32 row of the same model (1.0 for FP32 itself)."""
    fp32 = {(r["model"], r["stem"], r["image_size"]): r for r in rows if r["quant"] == "fp32" and "error" not in r}
    for r in rows:
        base = fp32.get((r["model"], r["stem"], r["image_size"]))
        ok = base is not None and "error" not in r
        r["time_ratio"] = r["ms_step"] / base["ms_step"] if ok else None
        r["mem_ratio"] = r["mem_mb"] / base["mem_mb"] if ok and base["mem_mb"] > 0 else None
    return rows


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


HEADER = (f"{'model':<11} {'quant':<7} {'px':>3} {'images/s':>9} {'ms/step':>9} {'x fp32':>7} {'mem MB':>8} "
          f"{'x fp32':>7} {'aug %':>6} {'eval img/s':>10}")


def format_row(r):
    name = r["model"] + ("-in" if r["stem"] == "imagenet" else "")
    if "error" in r:
        return f"{name:<11} {r['quant']:<7} {r['image_size']:>3} error: {r['error']}"
    return (f"{name:<11} {r['quant']:<7} {r['image_size']:>3} {r['images_s']:>9.1f} {r['ms_step']:>9.1f} "
            f"{fmt(r['time_ratio'], '.2f'):>7} {r['mem_mb']:>8.0f} {fmt(r['mem_ratio'], '.2f'):>7} "
            f"{100 * r['aug_share']:>6.1f} {r['eval_images_s']:>10.1f}")


# ----------------------------------------------------------------------------- the study's projection

STUDY_DATA = {"cifar10": (32, 50_000, 10_000), "cifar100": (32, 50_000, 10_000), "tiny-imagenet": (64, 100_000, 10_000)}
EPOCHS = 300
ALL = tuple(STUDY_DATA)
R18, BOTH = ("resnet18",), ("resnet18", "resnet50")


def runs(model_names, quant_name, datasets, seeds, kd=False, stem="cifar", variants=1):
    # one entry per (model, dataset); count = seeds x variants (keep-layer variants are timed as the plain quantizer)
    return [dict(model=m, quant=quant_name, dataset=d, stem=stem, kd=kd, count=seeds * variants)
            for m in model_names for d in datasets]


PHASES = {
    "phase1 fp32 baselines (+ imagenet stem)": runs(BOTH, "fp32", ALL, 3) + runs(BOTH, "fp32", ALL[:2], 1, stem="imagenet"),
    "phase2 KD (fp32 r18, bitnet)": runs(R18, "fp32", ALL, 3, kd=True) + runs(BOTH, "bitnet", ALL, 3, kd=True),
    "phase3 bitnet": runs(BOTH, "bitnet", ALL, 3),
    "phase4 bitnet keep conv1/layers": runs(BOTH, "bitnet", ALL, 3) + runs(R18, "bitnet", ALL, 3, kd=True)
                                       + runs(R18, "bitnet", ALL, 3, variants=3),
    "phase5 r18 bitnet keep conv1, 7 seeds": runs(R18, "bitnet", ALL[1:], 7),
    "phase6 ttq": runs(BOTH, "ttq", ALL, 3),
}


def study_configs(args):
    """Every (model, quant, stem, size) the phases need, the FP32 teachers of KD runs included."""
    keys = set()
    for entries in PHASES.values():
        for e in entries:
            size = STUDY_DATA[e["dataset"]][0]
            keys.add((e["model"], e["quant"], e["stem"], size))
            if e["kd"]:
                keys.add((e["model"], "fp32", e["stem"], size))
    return [config(args, m, q, size, stem) for m, q, stem, size in sorted(keys)]


def project(rows):
    """GPU-hours per phase: count * epochs * (train images / train rate + test images / eval rate) / 3600."""
    rate = {(r["model"], r["quant"], r["stem"], r["image_size"]): r for r in rows}
    phases = {}
    for phase, entries in PHASES.items():
        out = []
        for e in entries:
            size, n_train, n_test = STUDY_DATA[e["dataset"]]
            r = rate[(e["model"], e["quant"], e["stem"], size)]
            train_rate = r["images_s"]
            if e["kd"]:  # the teacher's no-grad forward of the same FP32 model runs on every batch
                teacher = rate[(e["model"], "fp32", e["stem"], size)]["eval_images_s"]
                train_rate = 1 / (1 / train_rate + 1 / teacher)
            hours = e["count"] * EPOCHS * (n_train / train_rate + n_test / r["eval_images_s"]) / 3600
            out.append(dict(e, epochs=EPOCHS, train_images=n_train, test_images=n_test, train_rate=train_rate,
                            eval_rate=r["eval_images_s"], hours=hours))
        phases[phase] = dict(runs=out, count=sum(e["count"] for e in out), hours=sum(e["hours"] for e in out))
    return dict(phases=phases, total_runs=sum(p["count"] for p in phases.values()),
                total_hours=sum(p["hours"] for p in phases.values()))


def print_study(study, device):
    print(f"\n{'phase':<42} {'runs':>5} {'GPU-hours':>10}")
    for name, p in study["phases"].items():
        print(f"{name:<42} {p['count']:>5} {p['hours']:>10.1f}")
    print(f"{'total':<42} {study['total_runs']:>5} {study['total_hours']:>10.1f}")
    print(f"(projection: one run per device at the rates measured on {device}, {EPOCHS} epochs, eval every epoch; "
          "keep-layer variants timed as plain bitnet; KD adds a measured FP32 forward)")


# ----------------------------------------------------------------------------- main

def device_name(device):
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device).replace(" ", "-")
    return f"cpu-{os.cpu_count()}cores"


def device_description(device):
    if device.startswith("cuda"):
        p = torch.cuda.get_device_properties(device)
        return f"{p.name}, {p.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


def main(argv=None):
    args = parse_args(argv)
    if args.one:
        print(json.dumps(measure(json.loads(args.one))))
        return
    args = resolve(args)
    if args.study:  # rates only: the configurations run one after another in this process
        cfgs = study_configs(args)
        rows = []
        for cfg in cfgs:
            print(f"measuring {cfg['model']} {cfg['quant']} {cfg['stem']} stem {cfg['image_size']} px", file=sys.stderr)
            rows.append(dict({k: cfg[k] for k in ("model", "quant", "stem", "image_size", "batch_size")},
                             copies=1, **measure(cfg)))
        add_ratios(rows)
        print(HEADER, *map(format_row, rows), sep="\n")
    else:  # one row at a time as it comes (FP32 first, so the ratios are there when printed)
        rows = []
        print(HEADER, flush=True)
        for m in args.models:
            for q in sorted(args.quants, key=lambda q: q != "fp32"):
                rows.append(run_copies(config(args, m, q), args.concurrent))
                add_ratios(rows)
                print(format_row(rows[-1]), flush=True)
    result = dict(date=datetime.now(timezone.utc).isoformat(timespec="seconds"), torch_version=torch.__version__,
                  device=args.device, device_description=device_description(args.device),
                  settings={k: v for k, v in vars(args).items() if k != "one"}, rows=rows)
    if args.study:
        result["study"] = project(rows)
        print_study(result["study"], device_description(args.device))
    ok = [r for r in rows if "error" not in r]
    if ok:
        print(f"augmentation: {max(100 * r['aug_share'] for r in ok):.1f}% of a step at most")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{device_name(args.device)}{'-study' if args.study else ''}.json"
    common.write_json(path, result)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
