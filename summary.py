"""The per-layer summary of a quantized model: one row per Conv2d/Linear (shape, method, weight and
activation bits, parameters, deployed bytes, multiply-accumulates per image) and totals equal to
qlayers.model_size's, as terminal text and as a run folder's summary.md.
"""
import torch
import torch.nn as nn

import common
import quant

TERNARY = (quant.BitNet, quant.TTQ, quant.TWN)  # their 2-bit weights take three levels
METHOD_NAMES = {entry.quantizer: name for name, entry in quant.METHODS.items() if entry}
KINDS = ("binary", "ternary", "k-bit", "fp")
KIND_NAMES = dict(zip(KINDS, ("binary", "ternary", "k-bit", "full precision")))


def activation_bits(q):
    """Bits of the activations a layer sees (q: its quantizer, None for a full-precision layer)."""
    if q is None or getattr(q, "sees_image", False):  # a quantized first layer: the image
        return 32
    if isinstance(q, quant.BitNet):
        return 8  # per-sample absmax to 8 bits
    if isinstance(q, quant.XNOR):
        return 1 if q.binary_input else 32
    return getattr(q, "abits", 32)


def kind(q):
    """binary, ternary, k-bit or fp: the class of a layer's weights, and of its
    multiply-accumulates."""
    bits = 32 if q is None else q.weight_bits
    if bits >= 32:
        return "fp"
    if bits == 1:
        return "binary"
    return "ternary" if bits == 2 and isinstance(q, TERNARY) else "k-bit"


@torch.no_grad()
def count_macs(model, image_size, in_channels):
    """{layer name: multiply-accumulates per image} of every Conv2d/Linear, from forward hooks on
    one input."""
    macs, hooks = {}, []

    def count(name):
        # one output value costs in_channels/groups x kernel area, or in_features
        def hook(layer, inputs, out):
            macs[name] = macs.get(name, 0) + out[0].numel() * layer.weight[0].numel()
        return hook

    for name, layer in model.named_modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            hooks.append(layer.register_forward_hook(count(name)))
    training = model.training
    # eval mode: batch norm of one image, and no random draw (BC's stochastic sign) that would move
    # a run's RNG
    try:
        model.eval()(torch.zeros(1, in_channels, image_size, image_size,
                                 device=next(model.parameters()).device))
    finally:
        model.train(training)
        for h in hooks:
            h.remove()
    return macs


def layer_table(model, config):
    """Per-layer rows and totals of a built model (trained or not: nothing here depends on weight
    values)."""
    macs = count_macs(model, config["image_size"], config.get("in_channels", 3))
    layers = dict(model.named_modules())
    rows = []
    for name, count in macs.items():
        layer = layers[name]
        q = getattr(layer, "quantizer", None)
        wbits, weights = (32 if q is None else q.weight_bits), layer.weight.numel()
        # weight, bias and the quantizer's trained scales
        params = sum(p.numel() for p in layer.parameters())
        rows.append(dict(layer=name, shape="x".join(map(str, layer.weight.shape)),
                         method="fp32" if q is None else METHOD_NAMES[type(q)], wbits=wbits,
                         abits=activation_bits(q),
                         kind=kind(q), weights=weights, params=params,
                         bits=weights * wbits + 32 * (params - weights), macs=count))
    params = sum(p.numel() for p in model.parameters())
    other = params - sum(r["params"] for r in rows)  # batch norm's scale and shift
    bits = sum(r["bits"] for r in rows) + 32 * other
    by_precision = {}
    for r in sorted((r for r in rows if r["kind"] != "fp"), key=lambda r: r["wbits"]):
        label = {"binary": "binary (1 bit)",
                 "ternary": "ternary (2 bits)"}.get(r["kind"], f"{r['wbits']}-bit")
        by_precision[label] = by_precision.get(label, 0) + r["weights"]
    # the rest: biases, batch norm, ...
    by_precision["full precision (32 bits)"] = params - sum(by_precision.values())
    total_macs = sum(macs.values())
    deployed = (bits + 7) // 8
    return dict(title=title(config), rows=rows, other_params=other, totals=dict(
        params=params, quantized=sum(r["weights"] for r in rows
                                     if r["kind"] != "fp"), deployed_bytes=deployed,
        fp32_bytes=4 * params, compression_ratio=4 * params / deployed, by_precision=by_precision,
        buffers=sum(b.numel() for b in model.buffers()), macs=total_macs,
        mac_share={k: sum(r["macs"] for r in rows if r["kind"] == k) / total_macs for k in KINDS}))


def title(config):
    has_bits = config.get("wbits") or config.get("abits")
    bits = f" w{config.get('wbits') or 32}a{config.get('abits') or 32}" if has_bits else ""
    keep = f", kept in full precision: {', '.join(config['keep'])}" if config.get("keep") else ""
    return (f"{config['model']}, {config['quant']}{bits}{keep}; input "
            f"{config.get('in_channels', 3)}x{config['image_size']}x{config['image_size']}, "
            f"{config['num_classes']} classes")


# text left, numbers right
HEADER = ("layer", "shape", "method", "W bits", "A bits", "params", "bytes", "MACs")


def table_cells(summary):
    return [[r["layer"], r["shape"], r["method"], str(r["wbits"]), str(r["abits"]),
             f"{r['params']:,}",
             f"{-(-r['bits'] // 8):,}", f"{r['macs']:,}"] for r in summary["rows"]]


def human(n):
    return f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def totals_lines(summary):
    t = summary["totals"]
    return [
        f"other parameters (batch norm): {summary['other_params']:,}, at 32 bits",
        f"parameters: {t['params']:,} = "
            + " + ".join(f"{n:,} {label}" for label, n in t["by_precision"].items()),
        f"deployed: {t['deployed_bytes']:,} bytes ({human(t['deployed_bytes'])}) against "
            f"{t['fp32_bytes']:,} in FP32 "
        f"({human(t['fp32_bytes'])}): {t['compression_ratio']:.2f}x smaller",
        "buffers (batch norm's running statistics, quantizer state; not counted above): "
            f"{t['buffers']:,} values",
        f"MACs per image: {t['macs']:,} = "
            + ", ".join(f"{100 * t['mac_share'][k]:.1f}% {KIND_NAMES[k]}" for k in KINDS),
    ]


def as_text(summary):
    header, cells = HEADER, table_cells(summary)
    widths = [max(len(row[i]) for row in [header] + cells) for i in range(len(header))]
    line = lambda row: "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(row, widths)))
    return "\n".join([summary["title"], line(header), *map(line, cells), *totals_lines(summary)])


def as_markdown(summary):
    row = lambda cells: "| " + " | ".join(cells) + " |"
    table = [row(HEADER), row(["---"] * 3 + ["---:"] * 5), *map(row, table_cells(summary))]
    return "\n".join([f"# {summary['title']}", "", *table, "",
                      *(f"- {line}" for line in totals_lines(summary))]) + "\n"


def write_summary(path, model, config):
    """summary.md of a run folder (train.py writes it when a run starts)."""
    text = as_markdown(layer_table(model, config))
    common.write_atomic(path, lambda f: f.write(text.encode()))
