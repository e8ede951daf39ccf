"""Quantizers of weights and activations, straight-through estimators, and the
conversion of a model's Conv2d/Linear layers into quantized ones.

Each method is a small nn.Module with two functions: `weight(w)` returns the weight the
layer computes with, `input(x)` the activation it sees. It is registered by name in
METHODS. QConv2d/QLinear call them; `quantize_model` converts a built model in place,
leaving the layers named in `keep` in full precision. Nothing here trains or loads data.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------- straight-through estimator

def ste(x, q):
    """Forward q, backward identity (Bengio et al. 2013): the value of q, the gradient of x."""
    return x + (q - x).detach()


# ----------------------------------------------------------------------------- BitNet b1.58

def ternarize_absmean(w, eps=1e-5):
    # BitNet b1.58 (Ma et al. 2024, eq. 1-3): W~ = RoundClip(W / (gamma + eps), -1, 1) * gamma, gamma = mean|W|
    gamma = w.abs().mean()
    return (w / (gamma + eps)).round().clamp(-1, 1) * gamma


def quantize_absmax(x, bits=8, eps=1e-5):
    # BitNet (Wang et al. 2023, eq. 4), per sample: x~ = Clip(Round(x * Q / gamma), -Q, Q) * gamma / Q, Q = 2^(b-1) - 1, gamma = max|x|
    q = 2 ** (bits - 1) - 1
    gamma = x.detach().abs().amax(dim=tuple(range(1, x.dim())), keepdim=True).clamp_min(eps)
    return (x * (q / gamma)).round().clamp(-q, q) * (gamma / q)


class BitNet(nn.Module):
    """Ternary weights by absmean, 8-bit activations by per-sample absmax, straight-through
    gradients; the parameter-free sub-LayerNorm of BitLinear before the activation quantizer."""
    weight_bits = 2  # three levels stored in two bits

    def __init__(self, layer, opts):
        super().__init__()
        self.sub_ln = opts.get("sub_ln", True)

    def weight(self, w):
        return ste(w, ternarize_absmean(w))

    def input(self, x):
        if self.sub_ln:  # LayerNorm over all features of a sample (C, H, W for a conv), no affine
            x = F.layer_norm(x, x.shape[1:])
        return ste(x, quantize_absmax(x, 8))


# ----------------------------------------------------------------------------- Trained Ternary Quantization

class TernarizeTTQ(torch.autograd.Function):
    # TTQ (Zhu et al. 2017, eq. 6-8): w_t = Wp if w > delta, -Wn if w < -delta, else 0;
    # dL/dWp = sum over I_p of dL/dw_t, dL/dWn = -(sum over I_n of dL/dw_t) (w_t = -Wn there),
    # dL/dw = Wp * dL/dw_t on I_p, 1 * dL/dw_t on I_z, Wn * dL/dw_t on I_n.
    @staticmethod
    def forward(ctx, w, wp, wn, delta):
        positive, negative = w > delta, w < -delta
        ctx.save_for_backward(positive, negative, wp, wn)
        return torch.where(positive, wp, torch.where(negative, -wn, torch.zeros_like(w)))

    @staticmethod
    def backward(ctx, grad):
        positive, negative, wp, wn = ctx.saved_tensors
        grad_w = grad * torch.where(positive, wp, torch.where(negative, wn, torch.ones_like(grad)))
        grad_wp = torch.where(positive, grad, 0).sum().reshape(wp.shape)
        grad_wn = -torch.where(negative, grad, 0).sum().reshape(wn.shape)
        return grad_w, grad_wp, grad_wn, None


class TTQ(nn.Module):
    """Ternary weights {-Wn, 0, +Wp} with per-layer trained scales and threshold
    delta = t * max|w| (t = --ttq-threshold); full-precision activations."""
    weight_bits = 2

    def __init__(self, layer, opts):
        super().__init__()
        self.t = opts.get("ttq_threshold", 0.05)
        # scales start at 1.0 as in the authors' code: behind batch norm a layer is scale-invariant, so a
        # small scale would make its relative updates huge (they grow as lr / scale^2)
        self.wp = nn.Parameter(torch.tensor(1.0))
        self.wn = nn.Parameter(torch.tensor(1.0))

    def weight(self, w):
        return TernarizeTTQ.apply(w, self.wp, self.wn, self.t * w.detach().abs().max())

    def input(self, x):
        return x


# ----------------------------------------------------------------------------- registry and conversion

METHODS = {
    "fp32": None,  # no conversion: the full-precision baseline
    "bitnet": BitNet,
    "ttq": TTQ,
}


class QConv2d(nn.Conv2d):
    """A Conv2d whose input and weight pass through `self.quantizer` first."""

    def forward(self, x):
        return self._conv_forward(self.quantizer.input(x), self.quantizer.weight(self.weight), self.bias)


class QLinear(nn.Linear):
    """A Linear whose input and weight pass through `self.quantizer` first."""

    def forward(self, x):
        return F.linear(self.quantizer.input(x), self.quantizer.weight(self.weight), self.bias)


QUANTIZED = {nn.Conv2d: QConv2d, nn.Linear: QLinear}


def is_kept(name, keep):
    """A layer stays full precision when it or one of its parents is named in keep."""
    return any(name == k or name.startswith(k + ".") for k in keep)


def quantize_model(model, method, keep=(), **opts):
    """Turn every Conv2d/Linear not under a kept name into its quantized form, in place."""
    if METHODS[method] is None:
        return model
    for name, module in list(model.named_modules()):
        if type(module) in QUANTIZED and not is_kept(name, keep):
            module.__class__ = QUANTIZED[type(module)]  # same parameters, new forward
            module.quantizer = METHODS[method](module, opts)
    return model


def quantized_layers(model):
    return [m for m in model.modules() if isinstance(m, tuple(QUANTIZED.values()))]


def model_size(model):
    """(params, quantized weights, deployed bytes, fp32 bytes): quantized weights at their
    method's bits, everything else (including the quantizers' scales) at 32 bits."""
    params = sum(p.numel() for p in model.parameters())
    layers = quantized_layers(model)
    quantized = sum(m.weight.numel() for m in layers)
    bits = sum(m.weight.numel() * m.quantizer.weight_bits for m in layers) + 32 * (params - quantized)
    return params, quantized, (bits + 7) // 8, 4 * params
