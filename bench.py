"""Training-speed benchmark of models x quantizers, and a GPU-hour projection of the study: full
training steps timed on one random batch, a model's quantizers side by side, with peak memory and
ratios to FP32.

    python bench.py --models resnet20,resnet18 --quants fp32,bitnet,ttq --steps 10 --repeats 3
    python bench.py --study --steps 1 --repeats 1
    python bench.py --models resnet20 --layout both
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

import batches
import common
import devices
import dynamics
import flags
import models
import qlayers
import quant
import study_hours
import train

NUM_CLASSES = 10
# CIFAR-10's statistics; any values time the same
MEAN, STD = [125.3, 123.0, 113.9], [63.0, 62.1, 66.7]
# (wbits, abits) each quantizer is timed at; the others take none
BITS = {"xnor": (1, 1), "dorefa": (2, 2), "qnn": (2, 2)}


# ----------------------------------------------------------------------------- command line

def bench_args(argv=None):
    p = argparse.ArgumentParser(
        description="Time training steps of models x quantizers; project the study's GPU-hours.")
    a = p.add_argument
    a("--models", default="resnet20,resnet18", help="comma-separated model names")
    a("--quants", default="fp32,bitnet,ttq,twn,xnor,dorefa", help="comma-separated quantizer names")
    a("--batch-size", type=int, default=128)
    a("--image-size", type=int, default=32)
    a("--steps", type=int, default=10, help="timed steps per repeat")
    a("--warmup", type=int, default=3, help="untimed steps first")
    a("--repeats", type=int, default=3, help="timed windows; the median is reported")
    a("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    a("--amp", action=argparse.BooleanOptionalAction, default=None,
      help="bf16 autocast; default on for cuda")
    a("--compile", action="store_true",
      help="torch.compile the model; a configuration that does not compile is a failed row, "
           "and the exit status 1")
    a("--layout", choices=("default", "contiguous", "channels-last", "both"), default="default",
      help="memory format of model and batch: train.py's default for the device and model, "
           "one of the two, or both side by side (a row per layout, and the channels_last / "
           "contiguous step-time ratio per quantizer)")
    a("--dynamics", choices=("on", "off"), default="on",
      help="record the quantized weights' dynamics every step, as train.py does by default (its "
           "update is also timed alone: its share of a step)")
    a("--study", action="store_true",
      help="measure resnet18/50 x fp32/bitnet/ttq x 32/64 px and project the study")
    a("--concurrent", type=int, default=1,
      help="run K copies of each configuration at once; aggregate images/s")
    a("--out", default="results/bench", help="folder for <device-name>.json")
    # internal: time one configuration (JSON), print the result as JSON
    a("--one", help=argparse.SUPPRESS)
    # internal: peak memory of one configuration (JSON), as JSON
    a("--memory", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def check_bench_args(args):
    """Check names and numbers (one line and exit 2 when wrong); fill in the device defaults."""
    args.models = [m for m in args.models.split(",") if m]
    args.quants = [q for q in args.quants.split(",") if q]
    for values, registry, what in ((args.models, models.MODELS, "model"),
                                   (args.quants, quant.METHODS, "quantizer")):
        for v in values:
            if v not in registry:
                common.fail(f"unknown {what} '{v}'; choose one of: {', '.join(registry)}")
    for name, low in (("batch_size", 1), ("image_size", 8), ("steps", 1), ("warmup", 0),
                      ("repeats", 1), ("concurrent", 1)):
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


# ------------------------------------------------------------------- one configuration (child side)

def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def rss_kb(field):
    """VmRSS (now) or VmHWM (peak) of this process in KiB, from Linux's /proc; ru_maxrss
    elsewhere. Not ru_maxrss on Linux: it keeps the peak of the parent a process was forked from."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def timed(fn, steps, device):
    """Seconds per call of fn over one window of `steps` calls, closed by a sync."""
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    sync(device)
    return (time.perf_counter() - start) / steps


def model_of(cfg):
    model = models.build_model(cfg["model"], num_classes=NUM_CLASSES,
                               image_size=cfg["image_size"], stem=cfg["stem"])
    wbits, abits = BITS.get(cfg["quant"], (None, None))
    qlayers.quantize_model(model, cfg["quant"], keep=[], wbits=wbits, abits=abits)
    model.to(cfg["device"])
    if cfg["channels_last"]:
        model.to(memory_format=torch.channels_last)
    return model


def make_batch(cfg):
    g = torch.Generator().manual_seed(0)  # the same images and labels in every configuration
    s = cfg["image_size"]
    x = torch.randint(0, 256, (cfg["batch_size"], 3, s, s), generator=g, dtype=torch.uint8)
    y = torch.randint(0, NUM_CLASSES, (cfg["batch_size"],), generator=g)
    return x.to(cfg["device"]), y.to(cfg["device"])


def augment(cfg, x, draws, mean, std):
    """train.py's input path: crop with 1/8 padding and flip (draws made beforehand, on the
    device), normalize, in the model's memory format."""
    x = batches.normalize(batches.random_crop_flip(x, *draws, cfg["image_size"] // 8),
                           mean, std, torch.float32)
    return x.contiguous(memory_format=torch.channels_last) if cfg["channels_last"] else x


def wait_for_copies(cfg):
    # --concurrent: every copy finishes its warm-up before any starts timing, so the windows overlap
    if not cfg.get("barrier"):
        return
    Path(cfg["barrier"], str(os.getpid())).touch()
    deadline = time.time() + 600
    while len(os.listdir(cfg["barrier"])) < cfg["copies"] and time.time() < deadline:
        time.sleep(0.01)


def prepare(cfg):
    """Model, batch and optimizer of one configuration; returns its train step (augmentation,
    forward, backward, SGD step, qlayers.after_step), its augmentation and its eval forward."""
    torch.manual_seed(0)
    device = cfg["device"]
    model = model_of(cfg)
    x, y = make_batch(cfg)
    g = torch.Generator().manual_seed(1)
    draws = [d.to(device) for d in batches.crop_flip_draws(g, (len(x),), cfg["image_size"] // 8)]
    mean, std = torch.tensor(MEAN, device=device), torch.tensor(STD, device=device)
    # train.py's own optimizer (its default flags, the quantizers' scales in their group) and step
    optimizer = train.make_optimizer(
        flags.resolve(flags.parse_args(["--device", device, "--lr", "0.01"])), model)
    recording = cfg["dynamics"] and dynamics.tracked_layers(model)
    record = dynamics.Dynamics(model, compile=cfg["compile"]) if recording else None
    autocast = torch.autocast(device.split(":")[0], torch.bfloat16) if cfg["amp"] else nullcontext()
    net = devices.compile_model(model) if cfg["compile"] else model
    clean = batches.normalize(x, MEAN, STD, torch.float32)
    clean = clean.contiguous(memory_format=torch.channels_last) if cfg["channels_last"] else clean

    pending = []  # the previous step's loss, read once this step is queued, as train.py does

    def train_step():
        model.train()
        with autocast:
            loss = F.cross_entropy(net(augment(cfg, x, draws, mean, std)).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        qlayers.after_step(model)
        if record:
            record.after_step()
        if pending:
            pending.pop().item()  # train.py's one host sync a step (its divergence check)
        pending.append(loss.detach())

    @torch.no_grad()
    def eval_forward():  # evaluation (and a KD teacher) is a no-grad forward in eval mode
        model.eval()
        with autocast:
            net(clean)

    train_step()  # the first call compiles, when asked
    eval_forward()
    return dict(train=train_step, augment=lambda: augment(cfg, x, draws, mean, std),
                eval=eval_forward, **({"dynamics": record.after_step} if record else {}))


COMPILE_FAILED = "torch.compile failed: "  # how a row that did not compile begins its error


def compiler_for(cfgs):
    """Dynamo's settings while cfgs are compiled and timed side by side. Dynamo keeps one cache
    per code object (every ResNet shares ResNet.forward) and fails past its recompile limit, 8
    graphs by default: earlier groups are forgotten, and each configuration here keeps its train
    and eval graphs at once."""
    if not any(cfg["compile"] for cfg in cfgs):
        return nullcontext()
    import torch._dynamo
    torch._dynamo.reset()
    # two graphs per configuration and room for one recompile each; static shapes and strides, as
    # train.py compiles a model alone (else a second layout or image size compiles dynamic graphs)
    return torch._dynamo.config.patch(recompile_limit=max(8, 3 * len(cfgs)),
                                      automatic_dynamic_shapes=False)


def time_side_by_side(cfgs):
    """Time every configuration in this process, their windows interleaved (A B C A B C ...) so
    that a machine's drift in speed falls on all of them alike; the median window of each is
    reported."""
    with compiler_for(cfgs):
        return interleaved(cfgs)


def interleaved(cfgs):
    """time_side_by_side under the compiler's settings: a row of figures or of its error per cfg."""
    ready, results = [], {}
    for i, cfg in enumerate(cfgs):
        try:
            fns = prepare(cfg)
            for _ in range(cfg["warmup"]):
                fns["train"]()
            ready.append((i, fns))
        except Exception as e:  # e.g. out of memory: reported in its row, the others go on
            failure = devices.describe_compile_error(e) if cfg["compile"] else None
            error = COMPILE_FAILED + failure if failure else devices.exception_line(e)
            results[i] = dict(error=error)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    windows = {(i, part): [] for i, fns in ready for part in fns}
    if cfgs:
        wait_for_copies(cfgs[0])
    for _ in range(cfgs[0]["repeats"] if cfgs else 0):
        for i, fns in ready:
            for part, fn in fns.items():
                windows[(i, part)].append(timed(fn, cfgs[i]["steps"], cfgs[i]["device"]))
    for i, _ in ready:
        bs = cfgs[i]["batch_size"]
        step_s, aug_s, forward_s = (statistics.median(windows[(i, part)])
                                    for part in ("train", "augment", "eval"))
        results[i] = dict(images_s=bs / step_s, ms_step=1000 * step_s, aug_ms=1000 * aug_s,
                          aug_share=aug_s / step_s, eval_images_s=bs / forward_s,
                          forward_share=forward_s / step_s)
        if (i, "dynamics") in windows:  # the dynamics' update alone, a part of the step
            results[i]["dynamics_share"] = statistics.median(windows[(i, "dynamics")]) / step_s
    return [results[i] for i in range(len(cfgs))]


def measure_memory(cfg):
    """Peak memory of a few training steps of one configuration, in a process of its own: on CUDA
    the allocator's peak; on CPU the growth of resident memory, with glibc told to hand every
    tensor-sized block back to the system when freed (MALLOC_MMAP_THRESHOLD_, set by the parent),
    so that resident memory follows the tensors alive rather than the allocator's reuse."""
    device = cfg["device"]
    base_kb = rss_kb("VmRSS")
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
    train = prepare(cfg)["train"]
    for _ in range(2):
        train()
    sync(device)
    if device.startswith("cuda"):
        return dict(mem_mb=torch.cuda.max_memory_allocated(device) / 2**20)
    return dict(mem_mb=(rss_kb("VmHWM") - base_kb) / 1024)


# ------------------------------------------------------------- running configurations (parent side)

def config(args, model, quant_name, image_size=None, stem="cifar", channels_last=None):
    if channels_last is None:
        channels_last = (args.layout == "channels-last" or args.layout == "default"
                         and devices.default_channels_last(args.device, model))
    return dict(model=model, quant=quant_name, stem=stem, image_size=image_size or args.image_size,
                batch_size=args.batch_size, steps=args.steps, warmup=args.warmup,
                repeats=args.repeats, device=args.device, amp=args.amp, compile=args.compile,
                channels_last=channels_last, dynamics=args.dynamics == "on")


def configs_of(args, model, quant_name, image_size=None, stem="cifar"):
    """One configuration, or one per memory format with --layout both (contiguous first)."""
    layouts = (False, True) if args.layout == "both" else (None,)
    return [config(args, model, quant_name, image_size, stem, cl) for cl in layouts]


def in_children(mode, cfg, copies=1, env=None):
    """Run `bench.py --<mode> cfg` in `copies` fresh processes at once; their JSON results, or an
    error line."""
    command = [sys.executable, str(Path(__file__).resolve()), f"--{mode}", json.dumps(cfg)]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)
             for _ in range(copies)]
    outputs = [p.communicate() for p in procs]
    for p, (_, err) in zip(procs, outputs):
        # e.g. out of memory: reported in the table rather than losing the other rows
        if p.returncode != 0:
            lines = [l for l in err.strip().splitlines() if l.strip()]
            return lines[-1][:200] if lines else "child process failed"
    for _, err in outputs:
        sys.stderr.write("".join(l + "\n" for l in err.splitlines() if l.startswith("note:")))
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


def memory_of(cfg):
    """mem_mb of cfg measured in a fresh process (see measure_memory), or an error line."""
    # glibc: blocks over 64 KiB are returned when freed
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    result = in_children("memory", cfg, env=env)
    return result if isinstance(result, str) else result[0]["mem_mb"]


def concurrent_rates(cfg, copies):
    """--concurrent: `copies` processes time cfg at once, sharing the device; aggregate images/s."""
    with tempfile.TemporaryDirectory() as barrier:
        # share the CPU cores instead of oversubscribing them
        threads = max(1, torch.get_num_threads() // copies) if cfg["device"] == "cpu" else None
        cfg = dict(cfg, barrier=barrier, copies=copies, threads=threads)
        results = in_children("one", cfg, copies)
    if isinstance(results, str):
        return dict(error=results)
    if any("error" in r for r in results):
        return next(r for r in results if "error" in r)
    row = {k: statistics.median(r[k] for r in results) for k in results[0]}
    row["images_s"] = sum(r["images_s"] for r in results)  # aggregate throughput of the copies
    return row


def measure_rows(cfgs, copies=1, memory=True):
    """One row per configuration: rates timed side by side in this process (or by --concurrent
    copies), memory from a fresh process each, times the copies sharing the device."""
    rates = (time_side_by_side(cfgs) if copies == 1
             else [concurrent_rates(cfg, copies) for cfg in cfgs])
    rows = []
    for cfg, rate in zip(cfgs, rates):
        keys = ("model", "quant", "stem", "image_size", "batch_size", "channels_last")
        row = dict({k: cfg[k] for k in keys}, copies=copies, **rate)
        if memory and "error" not in row:
            mem = memory_of(cfg)
            if isinstance(mem, str):
                row["error"] = mem
            else:
                row["mem_mb"] = copies * mem
        rows.append(row)
    return rows


def add_ratios(rows):
    """Step time and memory of each row over the FP32 row of the same model and layout (1.0 for
    FP32 itself)."""
    key = lambda r: (r["model"], r["stem"], r["image_size"], r["channels_last"])
    fp32 = {key(r): r for r in rows if r["quant"] == "fp32" and "error" not in r}
    for r in rows:
        base = fp32.get(key(r))
        ok = base is not None and "error" not in r
        r["time_ratio"] = r["ms_step"] / base["ms_step"] if ok else None
        has_mem = ok and base.get("mem_mb") and "mem_mb" in r
        r["mem_ratio"] = r["mem_mb"] / base["mem_mb"] if has_mem else None
    return rows


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def layout_ratios(rows):
    """{model: {quant: channels_last step time / contiguous step time}} over rows timed in both
    layouts."""
    ms = {(r["model"], r["quant"], r["channels_last"]): r["ms_step"]
          for r in rows if "error" not in r}
    ratios = {}
    for (m, q, cl), t in ms.items():
        if cl and (m, q, False) in ms:
            ratios.setdefault(m, {})[q] = t / ms[(m, q, False)]
    return ratios


HEADER = (f"{'model':<11} {'quant':<7} {'layout':<6} {'px':>3} {'images/s':>9} {'ms/step':>9} "
          f"{'x fp32':>7} {'mem MB':>8} {'x fp32':>7} {'aug %':>6} {'eval img/s':>10} {'dyn %':>6}")


def label(r):
    """A configuration as its row names it: model (-in: ImageNet stem), quantizer, layout, size."""
    name = r["model"] + ("-in" if r["stem"] == "imagenet" else "")
    return f"{name} {r['quant']} {'nhwc' if r['channels_last'] else 'nchw'} {r['image_size']} px"


def format_row(r):
    name = r["model"] + ("-in" if r["stem"] == "imagenet" else "")
    layout = "nhwc" if r["channels_last"] else "nchw"
    if "error" in r:
        return f"{name:<11} {r['quant']:<7} {layout:<6} {r['image_size']:>3} error: {r['error']}"
    return (f"{name:<11} {r['quant']:<7} {layout:<6} {r['image_size']:>3} "
            f"{r['images_s']:>9.1f} {r['ms_step']:>9.1f} {fmt(r['time_ratio'], '.2f'):>7} "
            f"{fmt(r.get('mem_mb'), '.0f'):>8} {fmt(r['mem_ratio'], '.2f'):>7} "
            f"{100 * r['aug_share']:>6.1f} {r['eval_images_s']:>10.1f} "
            f"{fmt(r.get('dynamics_share') and 100 * r['dynamics_share'], '.1f'):>6}")


# ----------------------------------------------------------------------- the study's configurations

def study_configs(args):
    """The configurations of every (model, quant, stem, size) the study's phases train."""
    return [cfg for m, q, stem, size in study_hours.study_keys()
            for cfg in configs_of(args, m, q, size, stem)]


# ----------------------------------------------------------------------------- main

def device_name(device):
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device).replace(" ", "-")
    return f"cpu-{os.cpu_count()}cores"


def device_description(device):
    if device.startswith("cuda"):
        p = torch.cuda.get_device_properties(device)
        return f"{p.name}, {p.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch threads")


def child(mode, cfg):
    """The side of a child process: time (--one) or measure the memory of (--memory) one
    configuration."""
    if cfg.get("threads"):
        torch.set_num_threads(cfg["threads"])
    return time_side_by_side([cfg])[0] if mode == "one" else measure_memory(cfg)


def write_result(out, name, result):
    path = Path(out) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    common.write_json(path, result)
    print(f"wrote {path}")


def main(argv=None):
    args = bench_args(argv)
    if args.one or args.memory:
        print(json.dumps(child("one" if args.one else "memory",
                               json.loads(args.one or args.memory))))
        return 0
    args = check_bench_args(args)
    if args.study:  # rates only, side by side within each model and image size
        cfgs = study_configs(args)
        groups = {}
        for cfg in cfgs:
            groups.setdefault((cfg["model"], cfg["stem"], cfg["image_size"]), []).append(cfg)
        rows = []
        for (model, stem, size), group in groups.items():
            print(f"measuring {model} ({stem} stem, {size} px): "
                  f"{', '.join(c['quant'] for c in group)}", file=sys.stderr)
            rows += measure_rows(group, memory=False)
        add_ratios(rows)
        print(HEADER, *map(format_row, rows), sep="\n")
    else:  # one model at a time, its quantizers side by side (FP32 first, the base of the ratios)
        rows = []
        print(HEADER, flush=True)
        for m in args.models:
            cfgs = [c for q in sorted(args.quants, key=lambda q: q != "fp32")
                    for c in configs_of(args, m, q)]
            rows += measure_rows(cfgs, args.concurrent)
            add_ratios(rows)
            print(*map(format_row, rows[-len(cfgs):]), sep="\n", flush=True)
    result = dict(date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  torch_version=torch.__version__,
                  device=args.device, device_description=device_description(args.device),
                  settings={k: v for k, v in vars(args).items() if k not in ("one", "memory")},
                  rows=rows)
    if args.layout == "both":
        result["channels_last_over_contiguous"] = layout_ratios(rows)
        for m, ratios in result["channels_last_over_contiguous"].items():
            print(f"{m}: channels_last step time / contiguous: "
                  + ", ".join(f"{q} {r:.2f}" for q, r in ratios.items()))
    failed = [r for r in rows if "error" in r]
    if args.study and not failed:  # GPU-hours of the 153-run study, one run per GPU at its rate
        result["study"] = study_hours.project(rows)
        study_hours.print_study(result["study"], device_description(args.device))
    elif args.study:  # a rate missing: no projection rather than one without those runs
        print(f"no projection: {len(failed)} configuration(s) failed (rows above)", file=sys.stderr)
    ok = [r for r in rows if "error" not in r and "aug_share" in r]
    if ok:
        print(f"augmentation: {max(100 * r['aug_share'] for r in ok):.1f}% of a step at most")
    recorded = [r for r in ok if "dynamics_share" in r]
    if recorded:
        print(f"dynamics' record: {max(100 * r['dynamics_share'] for r in recorded):.1f}% "
              "of a step at most")
    name = f"{device_name(args.device)}{'-study' if args.study else ''}.json"
    write_result(args.out, name, result)
    uncompiled = [label(r) for r in failed if r["error"].startswith(COMPILE_FAILED)]
    if uncompiled:
        print(f"error: {len(uncompiled)} configuration(s) did not compile: {', '.join(uncompiled)}",
              file=sys.stderr)
    return 1 if uncompiled or (args.study and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
