"""The mean factor by which each straight-through estimator of the STE ablation scales the
weight gradient on a ResNet-20's latent weights, ternary (TWN) and binary (BinaryConnect), at
initialisation and in trained runs.

    python ste_factors.py \
        --checkpoint results/raw/cifar10/resnet20/twn_keep-conv1-fc_ste-swish_s42/final.pt
"""
import argparse
import sys
from pathlib import Path

import torch

import common
import estimators
import flags
import qlayers
import quant
import train

KINDS = {"ternary": quant.TWN, "binary": quant.BinaryConnect}  # the ablation's two methods
ARMS = {"keep": ["conv1", "fc"]}  # the layers phases/ste_ablation.sh's TWN and BC arms keep
PROGRESS = (0.0, 0.5, 1.0)  # where the table reads a surrogate that anneals with training


def factors(w, name, progress, kind):
    """Per weight, the multiplier the backward of `kind`'s quantizer puts on dL/dw_q (ternary:
    0.5 * (s(w - delta) + s(w + delta)), binary: s(w)), read from autograd through quant.py."""
    quantizer = KINDS[kind](None, {"ste": name})
    quantizer.progress = torch.tensor(float(progress))
    w = w.detach().clone().requires_grad_(True)
    quantizer.weight(w).backward(torch.ones_like(w))
    return w.grad


def mean_factor(weights, name, progress, kind):
    """The mean multiplier over all weights of the layers in `weights` (each its own threshold)."""
    total = sum(factors(w, name, progress, kind).double().sum().item() for w in weights)
    return total / sum(w.numel() for w in weights)


def latent_weights(seed, config):
    """The ablation's ResNet-20, built and seeded as train.py builds it (a run's --keep, --no-bn and
    --shortcut from its config): {name: latent weight} of its quantized layers."""
    argv = ["--model", "resnet20", "--dataset", "cifar10", "--quant", "twn", "--device", "cpu",
            "--seed", str(seed), "--keep", ",".join(config.get("keep", [])),
            "--shortcut", config.get("shortcut", "A")]
    argv += [] if config.get("bn", True) else ["--no-bn"]
    args = flags.resolve(flags.parse_args(argv))
    common.seed_everything(seed)  # as train.setup does: the initial weights of the run of this seed
    model, _ = train.build(args, 10, 32, 3)
    names = {m: n for n, m in model.named_modules()}
    return {names[m]: m.weight.detach() for m in qlayers.quantized_layers(model)}


def checkpoint_weights(path, seed):
    """The trained latent weights of a run's final.pt, or of its last.pt (which holds no config: the
    folder's config.json says what was trained)."""
    try:
        ckpt = common.load_checkpoint(path)
        state = ckpt["model"]
    except Exception as e:
        first = (str(e).splitlines() or [type(e).__name__])[0][:200]
        common.fail(f"cannot load --checkpoint {path}: {first}")
    config = ckpt.get("config") or common.read_json(Path(path).parent / "config.json") or {}
    if config.get("model") != "resnet20":
        common.fail(f"--checkpoint {path} holds a {config.get('model', 'model of unknown kind')}, "
                    "not a resnet20")
    weights = {}
    for name, w in latent_weights(seed, config).items():
        trained = state.get(f"{name}.weight")
        if not isinstance(trained, torch.Tensor) or trained.shape != w.shape:
            common.fail(f"--checkpoint {path} has no {name}.weight of shape {tuple(w.shape)}")
        weights[name] = trained.float()
    return weights


def rows(sets):
    """(label, [factor per set and kind]): a surrogate whose factors change with progress gets a
    row per value of PROGRESS, the others one row (found by computing each at every progress)."""
    out = []
    for name in estimators.SURROGATES:
        at = {p: [mean_factor(ws, name, p, kind) for ws in sets for kind in KINDS]
              for p in PROGRESS}
        if all(at[p] == at[0.0] for p in PROGRESS):
            out.append((name, at[0.0]))
        else:
            out += [(f"{name} (p={p:g})", at[p]) for p in PROGRESS]
    return out


def table(labels, sets):
    """The line of mean |w| per set, then the markdown table, as lines."""
    mean_abs = [sum(w.abs().double().sum().item() for w in ws) / sum(w.numel() for w in ws)
                for ws in sets]
    head = ", ".join(f"{label} {m:.4f} ({len(ws)} layers)"
                     for label, m, ws in zip(labels, mean_abs, sets))
    columns = " | ".join(f"{label} {kind}" for label in labels for kind in KINDS)
    lines = [f"mean |w| of the quantized layers' latent weights: {head}", "",
             f"| surrogate | {columns} |", "| --- |" + " ---: |" * (len(labels) * len(KINDS))]
    return lines + [f"| {label} | " + " | ".join(f"{v:.2f}" for v in values) + " |"
                    for label, values in rows(sets)]


def column_name(path, taken):
    """A checkpoint's column: its run folder's name, with the file's when that name is taken."""
    path = Path(path)
    name = path.parent.name or path.stem
    return f"{name}/{path.name}" if name in taken else name


def main(argv=None):
    p = argparse.ArgumentParser(description="Mean factor of each STE on the weight gradient of "
                                            "the STE ablation's ResNet-20, ternary and binary.")
    p.add_argument("--seed", type=int, default=42, help="seed of the weights at initialisation")
    p.add_argument("--checkpoint", action="append", default=[], metavar="PT",
                   help="a resnet20 run's final.pt or last.pt: one more column (repeatable)")
    args = p.parse_args(argv)
    threads = torch.get_num_threads()
    # thousands of ops on small layers: threads add handoffs, 7x on a busy CPU
    torch.set_num_threads(1)
    try:
        labels = [f"init (seed {args.seed})"]
        sets = [list(latent_weights(args.seed, ARMS).values())]
        for path in args.checkpoint:
            labels.append(column_name(path, labels))
            sets.append(list(checkpoint_weights(path, args.seed).values()))
        print("\n".join(table(labels, sets)))
    finally:
        torch.set_num_threads(threads)  # main may run inside another program (the tests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
