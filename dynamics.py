"""How a quantized run's weights move: each quantized layer's codes after every optimizer step
(flips, oscillations), its levels, latent gradients and scales, and ReSTE's two indicators, summed
on the device and read once an epoch (results.json's history and dynamics.jsonl)."""
import json
import math

import torch

import common
import devices
import estimators
import qlayers
import quant

# Nagel et al. 2022 (oscillations-qat, TrackOscillation): an EMA of each weight's oscillations
MOMENTUM = 0.01
# a weight "oscillates" when its EMA passes twice the momentum, their code's advice for a
# threshold: more often than about once in 50 steps
OSCILLATING = 2 * MOMENTUM


def tracked_layers(model):
    """(name, layer) of every layer whose weights are quantized (not kept at 32 bits)."""
    return [(name, m) for name, m in model.named_modules()
            if isinstance(m, (qlayers.QConv2d, qlayers.QLinear)) and m.quantizer.weight_bits < 32]


def weight_surrogate(q, w):
    """(surrogate name, the inputs it is applied to) of the weights' backward, or (None, ()) where
    their gradient has none; TWN's is the mean over two shifted signs (estimators.ternarize)."""
    if isinstance(q, quant.TWN):
        delta = q.threshold_and_scale(w.abs())[0]
        return q.surrogate, (w - delta, w + delta)
    binary = (isinstance(q, quant.XNOR)
              or (isinstance(q, quant.BinaryConnect) and not q.stochastic)
              or (isinstance(q, quant.QNN) and q.wbits == 1))
    return (q.surrogate, (w,)) if binary else (None, ())


def entropy_bits(counts):
    p = counts / counts.sum()
    return -torch.where(p > 0, p * torch.log2(p), 0).sum()


class Dynamics:
    """Per quantized layer: the codes after the last step, each weight's last change of code
    (-1, 0 before any, +1) and its oscillation EMA, the codes at the last epoch's end; and the sums
    of the epoch's steps (flips, oscillations, gradient norms, gradient instability)."""

    def __init__(self, model, ste=False, compile=False):
        self.layers = tracked_layers(model)
        self.ste = ste  # ReSTE's indicators: for the runs trained with --ste
        # compiled: a few fused kernels a step instead of about fifteen a layer (GPU launches)
        self.update = devices.compile_function(self.update_sums) if compile else self.update_sums
        self.state = {}
        with torch.no_grad():
            for name, layer in self.layers:
                code = layer.quantizer.codes(layer.weight)
                self.state[name] = dict(code=code, epoch_code=code.clone(),
                                        direction=torch.zeros_like(code),
                                        ema=torch.zeros_like(code, dtype=torch.float32))
        device = self.layers[0][1].weight.device
        zero = lambda: torch.zeros((), dtype=torch.float64, device=device)
        self.global_grad_norm = zero()
        self.sums = {name: dict(flips=zero(), oscillations=zero(), grad_norm=zero(),
                                instability=zero()) for name, _ in self.layers}
        self.steps = 0

    def reset_sums(self):
        """Zero the epoch's sums, in place (a compiled update keeps reading the same tensors)."""
        self.steps = 0
        self.global_grad_norm.zero_()
        for sums in self.sums.values():
            for value in sums.values():
                value.zero_()

    def after_step(self):
        """After the optimizer's step (and the methods' own updates): compare every weight's code
        with the last step's; add the latent gradients' norms. No host sync."""
        self.update()
        self.steps += 1

    @torch.no_grad()
    def update_sums(self):
        squares = []
        for name, layer in self.layers:
            state, sums = self.state[name], self.sums[name]
            code = layer.quantizer.codes(layer.weight)
            change = (code - state["code"]).sign_()
            flipped = change != 0
            # a change opposite to the weight's previous one (direction 0: none yet)
            oscillated = (change * state["direction"]) < 0
            sums["flips"] += flipped.sum()
            sums["oscillations"] += oscillated.sum()
            state["ema"].mul_(1 - MOMENTUM).add_(oscillated, alpha=MOMENTUM)
            state["direction"].copy_(torch.where(flipped, change, state["direction"]))
            state["code"].copy_(code)
            grad = layer.weight.grad
            if grad is not None:
                square = grad.float().square().sum()
                squares.append(square)
                sums["grad_norm"] += square.sqrt()
                if self.ste:  # ReSTE's gradient instability: var(|g|)
                    sums["instability"] += grad.float().abs().var()
        if squares:
            self.global_grad_norm += torch.stack(squares).sum().sqrt()

    @torch.no_grad()
    def read(self):
        """(model-wide numbers, per-layer numbers) of the epoch: one host sync. The sums start
        again and the epoch's end codes become the next epoch's reference."""
        values = {}  # (layer, key) -> 0-d tensor, read in one transfer
        for name, layer in self.layers:
            values.update({(name, k): v for k, v in self.layer_values(name, layer)})
        values[(None, "grad_norm")] = self.global_grad_norm
        keys = list(values)
        numbers = dict(zip(keys, torch.stack([values[k].double() for k in keys]).tolist()))
        per_layer = {name: self.layer_record(name, layer, numbers)
                     for name, layer in self.layers}
        model = self.model_record(numbers, per_layer)
        for name, _ in self.layers:
            self.state[name]["epoch_code"].copy_(self.state[name]["code"])
        self.reset_sums()
        return model, per_layer

    def layer_values(self, name, layer):
        """(key, 0-d tensor) pairs of one layer at the epoch's end."""
        q, w = layer.quantizer, layer.weight.detach()
        state, sums = self.state[name], self.sums[name]
        progress = q.progress  # the epoch's, as its steps saw it (EDE and ReSTE anneal)
        code, low = state["code"], q.code_levels[0]
        counts = torch.bincount((code.long() - low).flatten(),
                                minlength=q.code_levels[-1] - low + 1)
        yield from sums.items()
        yield "epoch_flips", (code != state["epoch_code"]).sum()
        yield "oscillating", (state["ema"] > OSCILLATING).sum()
        yield "entropy", entropy_bits(counts.double())
        for level in q.code_levels:
            yield f"level {level}", counts[level - low]
        for key, scale in (q.scales(w) if hasattr(q, "scales") else {}).items():
            yield f"scale {key}", scale
        surrogate, inputs = weight_surrogate(q, w)
        if surrogate in estimators.BOUNDED:
            slope = sum(estimators.SURROGATES[surrogate](x, progress) for x in inputs)
            yield "saturated", (slope == 0).sum()
        if self.ste and surrogate:  # ReSTE's estimating error: ||codes - f(w)||_2
            estimate = sum(estimators.ESTIMATES[surrogate](x, progress) for x in inputs)
            yield "estimating_error", torch.linalg.vector_norm(estimate / len(inputs) - code)

    def layer_record(self, name, layer, numbers):
        """One layer's dynamics as results.json and dynamics.jsonl hold them."""
        q, n, steps = layer.quantizer, layer.weight.numel(), max(self.steps, 1)
        get = lambda key: numbers[(name, key)]
        record = dict(flip_rate=get("flips") / (steps * n),
                      oscillation_rate=get("oscillations") / (steps * n),
                      oscillating=get("oscillating") / n, epoch_flip=get("epoch_flips") / n)
        if len(q.code_levels) <= 3:
            record["levels"] = {str(v): get(f"level {v}") / n for v in q.code_levels}
        record["code_entropy"] = get("entropy")
        if 0 in q.code_levels:
            record["zero_share"] = get("level 0") / n
        if (name, "saturated") in numbers:
            record["saturated"] = get("saturated") / n
        record["grad_norm"] = get("grad_norm") / steps
        scales = {key.split(" ", 1)[1]: v for (layer_name, key), v in numbers.items()
                  if layer_name == name and key.startswith("scale ")}
        if scales:
            record["scales"] = scales
        if (name, "estimating_error") in numbers:
            record["estimating_error"] = get("estimating_error")
            record["gradient_instability"] = get("instability") / steps
        return record

    def model_record(self, numbers, per_layer):
        """The model-wide numbers: shares and scales weighted by the layers' weight counts, the
        code entropy of all codes together, the global gradient norm, ReSTE's indicators summed
        over layers (as their authors sum them)."""
        sizes = {name: layer.weight.numel() for name, layer in self.layers}
        total = sum(sizes.values())
        weighted = lambda values: sum(sizes[n] * v for n, v in values.items()) / total
        record = {}
        for key in ("flip_rate", "oscillation_rate", "oscillating", "epoch_flip", "zero_share",
                    "saturated"):
            if all(key in r for r in per_layer.values()):
                record[key] = weighted({n: r[key] for n, r in per_layer.items()})
        levels = next(iter(per_layer.values())).get("levels")
        if levels:
            record["levels"] = {v: weighted({n: r["levels"][v] for n, r in per_layer.items()})
                                for v in levels}
        record["code_entropy"] = self.pooled_entropy(numbers)
        record["grad_norm"] = numbers[(None, "grad_norm")] / max(self.steps, 1)
        scale_keys = next(iter(per_layer.values())).get("scales", {})
        if scale_keys:
            record["scales"] = {k: weighted({n: r["scales"][k] for n, r in per_layer.items()})
                                for k in scale_keys}
        for key in ("estimating_error", "gradient_instability"):
            if all(key in r for r in per_layer.values()):
                record[key] = sum(r[key] for r in per_layer.values())
        return dict(sorted(record.items(), key=lambda kv: RECORD_ORDER.index(kv[0])))

    def pooled_entropy(self, numbers):
        counts = {}
        for name, layer in self.layers:
            for v in layer.quantizer.code_levels:
                counts[v] = counts.get(v, 0) + numbers[(name, f"level {v}")]
        total = sum(counts.values())
        return -sum(c / total * math.log2(c / total) for c in counts.values() if c > 0)

    def state_dict(self):
        """What a resumed run needs (saved at an epoch's end, where the epoch's codes are the
        last step's)."""
        return {name: {k: state[k] for k in ("code", "direction", "ema")}
                for name, state in self.state.items()}

    def load_state_dict(self, saved):
        for name, state in self.state.items():
            for key, value in saved[name].items():
                state[key].copy_(value)
            state["epoch_code"].copy_(state["code"])


RECORD_ORDER = ["flip_rate", "oscillation_rate", "oscillating", "epoch_flip", "levels",
                "code_entropy", "zero_share", "saturated", "grad_norm", "scales",
                "estimating_error", "gradient_instability"]


def for_run(model, log, saved, epochs, args):
    """A run's Dynamics, from where its checkpoint left it (saved), and its log cut back to the
    checkpoint's epochs; None when no layer's weights are quantized (FP32)."""
    if not tracked_layers(model):
        return None
    record = Dynamics(model, ste=args.ste is not None, compile=args.compile)
    if saved:
        record.load_state_dict(saved)
    truncate_log(log, epochs)
    return record


def append_log(path, epoch, per_layer):
    """dynamics.jsonl: one line an epoch, every layer's record."""
    with open(path, "a") as f:
        f.write(json.dumps(dict(epoch=epoch, layers=per_layer)) + "\n")


def truncate_log(path, epochs):
    """Keep the lines of the first `epochs` epochs: a run killed after writing an epoch's line but
    before its checkpoint writes the line again when it resumes (a torn last line goes too)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["epoch"] <= epochs:
                kept.append(line + "\n")
        except (ValueError, KeyError, TypeError):
            continue
    common.write_atomic(path, lambda f: f.write("".join(kept).encode()))
