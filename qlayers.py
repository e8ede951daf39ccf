"""Quantized Conv2d and Linear layers (weight and input through a method's quantizer), the turning
of a built model's layers into them with the check of a method's options, model_size (its deployed
size), and what runs around the optimizer step (annealing progress, weight updates, clipping).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

import estimators
import kernels
import quant


# config.json's quant_forward: 2, DoReFa's and XNOR-Net's quantized first layer takes the image as
# it is; 1 (unrecorded), it clipped (DoReFa) or binarized (XNOR-Net) the image
QUANT_FORWARD = 2
# k-bit methods: no default width (their 32/32 would train in full precision)
NEEDS_BITS = ("dorefa", "qnn")


def check_options(method, wbits=None, abits=None, ste=None, stochastic=False):
    """The reason a combination of options cannot work, or None."""
    if stochastic and method != "bc":
        return "--stochastic applies to bc only"
    if quant.METHODS[method] is None:
        return None if (wbits, abits,
                        ste) == (None, None, None) else "fp32 takes no --wbits, --abits or --ste"
    _, wchoices, achoices, takes_ste = quant.METHODS[method]
    if method in NEEDS_BITS and (wbits is None or abits is None):
        return (f"{method} needs its bit widths: --wbits and --abits, each one of "
                f"{', '.join(map(str, wchoices))} (32: full precision)")
    for flag, value, choices in (("--wbits", wbits, wchoices), ("--abits", abits, achoices)):
        if value is not None and choices is None:
            return f"{method} has fixed bit widths; {flag} applies to: " + ", ".join(
                name for name, entry in quant.METHODS.items()
                if entry and (entry.wbits if flag == "--wbits" else entry.abits))
        if value is not None and value not in choices:
            return (f"{method} does not support {flag} {value}; "
                    f"choose from {', '.join(map(str, choices))}")
    if ste is not None and not takes_ste:
        return f"{method} has its own gradient; --ste applies to: " + ", ".join(
            name for name, entry in quant.METHODS.items() if entry and entry.takes_ste)
    if ste is not None and ste not in estimators.SURROGATES:
        return f"unknown STE '{ste}'; choose one of: {', '.join(estimators.SURROGATES)}"
    if ste is not None and method == "twn" and wbits == 32:
        return ("twn --wbits 32 keeps its weights in full precision; --ste has no ternarizing "
                "to change")
    if ste is not None and method == "qnn" and 1 not in (wbits, abits):
        return ("qnn's --ste is the backward of its 1-bit sign; with no 1-bit --wbits or --abits "
                "it has none to change")
    if ste is not None and stochastic:
        return ("bc --stochastic passes its gradient straight through; "
                "--ste applies to deterministic bc")
    return None


def set_progress(model, progress):
    """Tell every quantizer the fraction of training done (EDE and ReSTE anneal with it), in place
    in a 0-d buffer on the model's device: compiled code reads it as an input and is not recompiled
    when it changes."""
    for m in quantized_layers(model):
        m.quantizer.progress.fill_(progress)


@torch.no_grad()
def after_step(model, clip_factor=None):
    """Run after every optimizer step: the methods' own weight updates (BC clipping, SR rounding),
    then --clip-factor: w <- clip(w, -f * std(w), f * std(w)) per layer."""
    for m in quantized_layers(model):
        if clip_factor:
            bound = clip_factor * m.weight.std()
            m.weight.clamp_(-bound, bound)
        if hasattr(m.quantizer, "after_step"):
            m.quantizer.after_step(m)


def quantized_forward(layer, x):
    """The forward of a quantized layer: its quantizer's input and weight, then the layer's own
    operation (`apply_to`), or the whole layer computed by the quantizer when it has `compute`
    (XNOR-Net's eq. 11)."""
    q = layer.quantizer
    if hasattr(q, "compute"):
        return q.compute(layer, x)
    return layer.apply_to(*(q.input(x) if hasattr(q, "input") else (x, None, None)),
                          q.weight(layer.weight))


class QConv2d(nn.Conv2d):
    """A Conv2d whose input and weight pass through `self.quantizer` first (or whose quantizer
    computes the whole layer, when it has `compute`)."""

    forward = quantized_forward

    def apply_to(self, x_q, codes, scale, weight, bias=True):
        bias = self.bias if bias else None
        if codes is None:  # full-precision activations, or no backward to come (evaluation)
            return self._conv_forward(x_q, weight, bias)
        return kernels.ConvFromCodes.apply(x_q, codes, scale, weight, bias, self.stride,
                                           self.padding, self.dilation, self.groups)


class QLinear(nn.Linear):
    """A Linear whose input and weight pass through `self.quantizer` first (or whose quantizer
    computes the whole layer, when it has `compute`)."""

    forward = quantized_forward

    def apply_to(self, x_q, codes, scale, weight, bias=True):
        bias = self.bias if bias else None
        # a linear layer's input is small: no codes kept
        if codes is None or not torch.is_autocast_enabled(x_q.device.type):
            return F.linear(x_q, weight, bias)
        # under autocast, as ConvFromCodes: the exact integer codes in, the scale applied to the
        # output
        y = F.linear(kernels.StraightThrough.apply(x_q / scale, codes.to(x_q.dtype)), weight)
        y = (y * scale).to(y.dtype)
        return y if bias is None else y + bias.to(y.dtype)


QUANTIZED = {nn.Conv2d: QConv2d, nn.Linear: QLinear}


def is_kept(name, keep):
    """A layer stays full precision when it or one of its parents is named in keep."""
    return any(name == k or name.startswith(k + ".") for k in keep)


def quantize_layer(layer, method, **opts):
    """Turn one Conv2d/Linear into its quantized form with `method`'s quantizer, in place."""
    layer.__class__ = QUANTIZED[type(layer)]  # same parameters, new forward
    layer.quantizer = quant.METHODS[method].quantizer(layer, opts)
    # not in checkpoints
    layer.quantizer.register_buffer("progress", torch.zeros(()), persistent=False)
    return layer


def quantize_model(model, method, keep=(), **opts):
    """Turn every Conv2d/Linear not under a kept name into its quantized form, in place, and the
    model's ReLUs into the method's own nonlinearity where it has one for quantized activations
    (QNN's hardtanh)."""
    if quant.METHODS[method] is None:
        return model
    # sees the image
    first = next((name for name, module in model.named_modules() if type(module) in QUANTIZED),
                 None)
    for name, module in list(model.named_modules()):
        if type(module) in QUANTIZED and not is_kept(name, keep):
            quantize_layer(module, method, first=name == first, **opts)
    nonlinearity = getattr(quant.METHODS[method].quantizer, "quantized_activation_nonlinearity",
                           None)
    if nonlinearity and (opts.get("abits") or 32) < 32:
        for parent in list(model.modules()):
            for child_name, child in parent.named_children():
                if type(child) is nn.ReLU:
                    setattr(parent, child_name, nonlinearity())
    return model


def predates_image_as_is(config, model):
    """Whether a saved run's quantized first layer clipped or binarized the image (quant_forward
    1): rebuilt by this code, that layer would take the image as it is, another model."""
    return (config.get("quant_forward", 1) < 2 and config.get("quant") in ("dorefa", "xnor")
            and (config.get("abits") or 32) < 32
            and any(getattr(m.quantizer, "sees_image", False) for m in quantized_layers(model)))


def quantized_layers(model):
    return [m for m in model.modules() if isinstance(m, tuple(QUANTIZED.values()))]


def model_size(model):
    """(params, quantized weights, deployed bytes, fp32 bytes): quantized weights at their
    method's bits, everything else (including the quantizers' scales) at 32 bits. A layer whose
    method keeps 32-bit weights (DoReFa or QNN at --wbits 32) counts as full precision."""
    params = sum(p.numel() for p in model.parameters())
    layers = [m for m in quantized_layers(model) if m.quantizer.weight_bits < 32]
    quantized = sum(m.weight.numel() for m in layers)
    bits = sum(m.weight.numel() * m.quantizer.weight_bits
               for m in layers) + 32 * (params - quantized)
    return params, quantized, (bits + 7) // 8, 4 * params
