"""Every quantization method's equations, each named after its paper and equation, and METHODS,
the registry by name. A method is a small module: weight(w) is the weight a layer computes with,
input(x) the activation as (x_q, codes, scale), codes(w) each weight's integer level."""

from collections import namedtuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from estimators import binarize, sign, ste, ternarize
from kernels import (Hardtanh, LayerNormOverSample, at_least_fp32, codes_for_backward, scalar,
                     with_codes)


BINARY, TERNARY = (-1, 1), (-1, 0, 1)  # the codes of binary and ternary weights


def three_way(w, delta):
    """The ternary code of each weight: +1 above delta, -1 below -delta, 0 between."""
    return (w > delta).to(torch.int8) - (w < -delta).to(torch.int8)


# ----------------------------------------------------------------------------- BitNet b1.58

def absmean_levels(w, eps=1e-5):
    # BitNet b1.58 (Ma et al. 2024, eq. 1-3): W~ = RoundClip(W / (gamma + eps), -1, 1) * gamma,
    # gamma = mean|W|
    gamma = w.abs().mean()
    return (w / (gamma + eps)).round_().clamp_(-1, 1), gamma


def absmax_levels(x, bits=8, eps=1e-5):
    # BitNet (Wang et al. 2023, eq. 4), per sample:
    # x~ = Clip(Round(x * Q / gamma), -Q, Q) * gamma / Q, Q = 2^(b-1) - 1, gamma = max|x|
    q, dims = 2 ** (bits - 1) - 1, tuple(range(1, x.dim()))
    # no |x| copy
    gamma = torch.maximum(x.amax(dims, keepdim=True), -x.amin(dims, keepdim=True)).clamp_min(eps)
    # the Clip binds only through rounding in bf16
    return (x * (q / gamma)).round_().clamp_(-q, q), gamma / q


def ternarize_absmean(w):
    levels, gamma = absmean_levels(w.detach())
    return ste(w, levels.mul_(gamma))


def quantize_absmax(x, bits=8):
    """(x_q, codes, scale): 8-bit absmax activations with the straight-through gradient."""
    return with_codes(x, *absmax_levels(x.detach(), bits))


class BitNet(nn.Module):
    """Ternary weights by absmean, 8-bit activations by per-sample absmax, straight-through
    gradients; the parameter-free sub-LayerNorm of BitLinear before the activation quantizer."""
    weight_bits = 2  # three levels stored in two bits
    code_levels = TERNARY

    def __init__(self, layer, opts):
        super().__init__()
        self.sub_ln = opts.get("sub_ln", True)

    def weight(self, w):
        return ternarize_absmean(w)

    def codes(self, w):
        return absmean_levels(w)[0].to(torch.int8)

    def scales(self, w):
        return {"absmean": w.abs().mean()}

    def input(self, x):
        x = at_least_fp32(x)
        if self.sub_ln:  # LayerNorm over all features of a sample (C, H, W for a conv), no affine
            x = LayerNormOverSample.apply(x)
        return quantize_absmax(x)


# ------------------------------------------------------------------ Trained Ternary Quantization

def initial_scale(w):
    # an all-zero layer has no scale of its own: the mean |w| torch's default initialisation would
    # give it, U(-b, b) with b = 1 / sqrt(fan_in), is b / 2
    return torch.tensor(0.5 / w[0].numel() ** 0.5, dtype=w.dtype, device=w.device)


class TernarizeTTQ(torch.autograd.Function):
    # TTQ (Zhu et al. 2017, eq. 6-8) with the scales written Wp = Wp0 * sp, Wn = Wn0 * sn (Wp0, Wn0
    # fixed): w_t = Wp if w > delta, -Wn if w < -delta, else 0; dL/dWp = sum over I_p of dL/dw_t,
    # dL/dWn = -(sum over I_n of dL/dw_t) (w_t = -Wn there), so dL/dsp = Wp0 dL/dWp,
    # dL/dsn = Wn0 dL/dWn; dL/dw = sp * dL/dw_t on I_p, 1 * dL/dw_t on I_z, sn * dL/dw_t on I_n:
    # eq. 8 with the scales in units of their start (Wp0 = Wn0 = 1: eq. 8).
    @staticmethod
    def forward(ctx, w, sp, sn, wp0, wn0, delta):
        positive, negative = w > delta, w < -delta
        ctx.save_for_backward(positive, negative, sp, sn, wp0, wn0)
        return torch.where(positive, wp0 * sp,
                           torch.where(negative, -wn0 * sn, torch.zeros_like(w)))

    @staticmethod
    def backward(ctx, grad):
        positive, negative, sp, sn, wp0, wn0 = ctx.saved_tensors
        grad_w = grad * torch.where(positive, sp, torch.where(negative, sn, torch.ones_like(grad)))
        grad_sp = wp0 * torch.where(positive, grad, 0).sum().reshape(sp.shape)
        grad_sn = -wn0 * torch.where(negative, grad, 0).sum().reshape(sn.shape)
        return grad_w, grad_sp, grad_sn, None, None, None


class TTQ(nn.Module):
    """Ternary weights {-Wn, 0, +Wp} with per-layer trained scales and threshold
    delta = t * max|w| (t = --ttq-threshold); full-precision activations."""
    weight_bits = 2
    code_levels = TERNARY

    def __init__(self, layer, opts):
        super().__init__()
        self.t = opts.get("ttq_threshold", 0.05)
        w = layer.weight.detach()
        delta = self.t * w.abs().max()
        # Wp = Wp0 * sp, Wn = Wn0 * sn: sp, sn trained from 1.0 (the authors' start) in units of
        # where the weights are, Wp0, Wn0 = the mean |w| of each set at the start; from --init-from
        # the authors' Wp0 = Wn0 = 1
        one = torch.tensor(1.0)
        start = (one, one) if opts.get("init_from") else self.start_scales(w, delta)
        self.register_buffer("wp0", start[0].clone())
        self.register_buffer("wn0", start[1].clone())
        self.sp, self.sn = nn.Parameter(one.clone()), nn.Parameter(one.clone())

    @staticmethod
    def start_scales(w, delta):
        """The mean |w| of the positive and of the negative set; an empty set (a layer of one sign,
        or all zero) takes the other set's, or the layer's default-initialisation scale: never the
        mean of nothing (NaN)."""
        a, positive, negative = w.abs(), w > delta, w < -delta
        fallback = a[a > delta].mean() if (a > delta).any() else initial_scale(w)
        return (a[positive].mean() if positive.any() else fallback,
                a[negative].mean() if negative.any() else fallback)

    def weight(self, w):
        delta = self.t * w.detach().abs().max()
        return TernarizeTTQ.apply(w, self.sp, self.sn, self.wp0, self.wn0, delta)

    def codes(self, w):
        return three_way(w, self.t * w.abs().max())

    def scales(self, w):
        return {"positive": self.wp0 * self.sp.detach(), "negative": self.wn0 * self.sn.detach()}


# --------------------------------------------------------------- binary and ternary weight methods

class TWN(nn.Module):
    """Ternary weight networks: {-alpha, 0, +alpha} with a per-layer threshold; full-precision
    activations. --wbits 32 trains the full-precision network of TWN's recipe (the 32/32 row of the
    results table)."""

    code_levels = TERNARY

    def __init__(self, layer, opts):
        super().__init__()
        self.surrogate = opts.get("ste") or "identity"
        self.weight_bits = opts.get("wbits") or 2

    def weight(self, w):
        if self.weight_bits == 32:
            return w
        delta, alpha = self.threshold_and_scale(w.detach().abs())
        levels = ternarize(w, delta, self.surrogate, self.progress)
        # the gradient of W_t reaches W without alpha, as in the authors' code (not alpha * g)
        return ste(levels, alpha * levels.detach())

    @staticmethod
    def threshold_and_scale(a):
        # TWN (Li & Liu 2016, eq. 3 and 9-10): delta = 0.7 * mean|W|, alpha = mean of |W_i| over
        # |W_i| > delta; not a[above]: a boolean index syncs and breaks graphs
        delta = 0.7 * a.mean()
        above = a > delta
        return delta, (a * above).sum() / above.sum().clamp_min(1)

    def codes(self, w):
        return three_way(w, self.threshold_and_scale(w.abs())[0])

    def scales(self, w):
        return {"alpha": self.threshold_and_scale(w.abs())[1]}


def glorot_bound(layer):
    # BinaryConnect's code (binary_connect.py, H = "Glorot"): H = sqrt(1.5 / (fan_in + fan_out)), a
    # conv's fans counting its kernel positions
    w = layer.weight
    fan_in, fan_out = w[0].numel(), w.shape[0] * w[0, 0].numel()
    return (1.5 / (fan_in + fan_out)) ** 0.5


class BinaryConnect(nn.Module):
    """Binary weights +-H, latent weights clipped to [-H, H] after every step. H = 1 behind batch
    norm, as the authors trained; without batch norm (--no-bn) H is Glorot's bound, their code's
    other choice, since +-1 weights in ResNet-20 with no batch norm give logits near 1e20."""
    weight_bits = 1
    code_levels = BINARY

    def __init__(self, layer, opts):
        super().__init__()
        self.surrogate = opts.get("ste") or "identity"
        self.stochastic = opts.get("stochastic", False)
        self.h = 1.0 if opts.get("bn", True) else glorot_bound(layer)

    def weight(self, w):
        # BinaryConnect (Courbariaux et al. 2015, eq. 1-3): w_b = H sign(w), or stochastically
        # +H with p = hard_sigmoid(w / H) = clip((w / H + 1) / 2, 0, 1) and -H otherwise
        if self.stochastic and self.training:
            p = ((w.detach() / self.h + 1) / 2).clamp(0, 1)
            return ste(w, torch.where(torch.rand_like(w) < p, self.h, -self.h).to(w.dtype))
        b = binarize(w, self.surrogate, self.progress)
        return b if self.h == 1.0 else b * self.h

    def codes(self, w):
        return sign(w).to(torch.int8)  # stochastic too: the code evaluation uses

    @torch.no_grad()
    def after_step(self, layer):
        layer.weight.clamp_(-self.h, self.h)


def stochastic_round(w, step):
    # Li et al. 2017, eq. 3: Q_s(w) = step*floor(w/step) + step with probability
    # w/step - floor(w/step), else step*floor(w/step)
    low = torch.floor(w / step)
    return step * (low + (torch.rand_like(w) < (w / step - low)).to(w.dtype))


class StochasticRounding(nn.Module):
    """Weights that live on the binary grid {-s, +s} (s = the layer's initial mean|W|): no
    full-precision copy; after each optimizer step w <- Q_s(w - lr * update), clipped to the grid
    (Li et al. 2017, eq. 4)."""
    weight_bits = 1
    code_levels = BINARY

    def __init__(self, layer, opts):
        super().__init__()
        s = layer.weight.detach().abs().mean()
        # all zero: s = 0 gives 0/0
        self.register_buffer("s", s if s > 0 else initial_scale(layer.weight))
        with torch.no_grad():
            layer.weight.copy_(self.round_to_grid(layer.weight))

    def round_to_grid(self, w):
        # grid {-s, +s}: step 2s from -s, so w -> -s + Q_s(w + s) with step 2s, clipped to [-s, s]
        # first
        return -self.s + stochastic_round(w.clamp(-self.s, self.s) + self.s, 2 * self.s)

    def weight(self, w):
        return w  # already on the grid

    def codes(self, w):
        return sign(w).to(torch.int8)

    @torch.no_grad()
    def after_step(self, layer):
        layer.weight.copy_(self.round_to_grid(layer.weight))


class XNOR(nn.Module):
    """XNOR-Net: binary weights with a per-output-channel scale; with 1-bit activations the block is
    BN -> binary conv of sign(input) and sign(W) -> times K alpha, the model's ReLU following
    (abits 32 gives BWN, weights only). A quantized first layer takes the image as it is (BWN)."""
    weight_bits = 1
    code_levels = BINARY

    def __init__(self, layer, opts):
        super().__init__()
        self.surrogate = opts.get("ste") or "clipped"
        self.sees_image = opts.get("first", False)
        self.binary_input = opts.get("abits") == 1 and not self.sees_image
        conv = isinstance(layer, nn.Conv2d)
        channels = layer.in_channels if conv else layer.in_features
        norm = nn.BatchNorm2d if conv else nn.BatchNorm1d
        self.bn = norm(channels, affine=False) if self.binary_input else None

    def weight(self, w):
        # XNOR-Net (Rastegari et al. 2016, eq. 6): W ~ alpha * sign(W), alpha = mean|W| per output
        # channel, with sec. 3.1's gradient dC/dW_i = dC/dW~_i (1/n + alpha dsign/dW_i): the second
        # term carries the 1/n (value 0). The diagonal only, as printed; not the authors'
        # mean-centring, clamp and x n (docs/quantizers.md)
        alpha = w.detach().abs().mean(dim=tuple(range(1, w.dim())), keepdim=True)
        return alpha * binarize(w, self.surrogate, self.progress) + (w - w.detach()) / w[0].numel()

    def codes(self, w):
        return sign(w).to(torch.int8)

    def scales(self, w):
        # the mean over output channels of alpha = mean|W| per channel (all the same size)
        return {"alpha": w.abs().mean()}

    def compute(self, layer, x):
        """The layer's output. XNOR-Net eq. 11: I * W ~ (sign(I) (*) sign(W)) . K alpha with
        K = A * k, A = mean over channels of |I|, k the box filter of the kernel's size and stride:
        the convolution stays binary and the per-position scale K multiplies its output (a linear
        layer's K is mean |I|)."""
        if not self.binary_input:
            return layer.apply_to(x, None, None, self.weight(layer.weight))
        x = self.bn(at_least_fp32(x))  # the scale K in fp32 under autocast too
        a = x.detach().abs().mean(dim=1, keepdim=True)
        s = binarize(x, self.surrogate, self.progress)
        y = layer.apply_to(s, codes_for_backward(s), scalar(1.0, s), self.weight(layer.weight),
                           bias=False)
        if isinstance(layer, nn.Conv2d):
            # the box filter k: a mean over each window, zero padding counted
            a = F.avg_pool2d(a, layer.kernel_size, layer.stride, layer.padding,
                             count_include_pad=True)
        y = (y * a).to(y.dtype)  # K in fp32, the output in the conv's (autocast's) dtype
        bias = layer.bias
        return y if bias is None else y + bias.to(y.dtype).view(-1, *[1] * (y.dim() - 2))


# ----------------------------------------------------------------------------- k-bit methods

def quantize_uniform(r, k):
    """(r_q, codes, scale) with the straight-through gradient."""
    n = 2 ** k - 1
    # int8 converts ten times faster; 8 bits need uint8
    codes = torch.int8 if n <= 127 else torch.uint8
    return with_codes(r, uniform_levels(r.detach(), k), scalar(1 / n, r), codes)


def uniform_levels(r, k):
    """The integer levels 0 .. 2^k - 1 of r in [0, 1]."""
    # DoReFa-Net (Zhou et al. 2016, eq. 5): quantize_k(r) = round((2^k - 1) r) / (2^k - 1) for r
    # in [0, 1]
    return (r * (2 ** k - 1)).round_()


class DoReFa(nn.Module):
    """k-bit weights through tanh normalization (k = 1: sign * mean|W|) and k-bit activations of
    clip(x, 0, 1); 32 bits means full precision. A quantized first layer takes the image as it is:
    clip(x, 0, 1) of a normalized image would drop its negative half."""

    def __init__(self, layer, opts):
        super().__init__()
        self.wbits, self.abits = opts.get("wbits") or 32, opts.get("abits") or 32
        self.weight_bits = self.wbits
        self.sees_image = opts.get("first", False)
        self.code_levels = (BINARY if self.wbits == 1 else None if self.wbits == 32
                            else tuple(range(2 ** self.wbits)))

    def weight(self, w):
        if self.wbits == 32:
            return w
        if self.wbits == 1:
            # DoReFa eq. 7-8: r_o = sign(r_i) * E(|r_i|), dc/dr_i = dc/dr_o (E not applied)
            return ste(w, sign(w.detach()).mul_(w.detach().abs().mean()))
        # DoReFa eq. 9: w_k = 2 * quantize_k(tanh(w) / (2 max|tanh(w)|) + 1/2) - 1, the gradient
        # through max|tanh w| as well (the authors' tensorpack code)
        return 2 * quantize_uniform(self.tanh_unit(w), self.wbits)[0] - 1

    @staticmethod
    def tanh_unit(w):
        # tanh(w) / (2 max|tanh(w)|) + 1/2, in [0, 1]; an all-zero layer's max counts as 1 (0/0
        # otherwise): it takes the formula's value at w = 0, 2 quantize_k(1/2) - 1 (1/3 at 2 bits)
        t = torch.tanh(w)
        peak = t.abs().max()
        return t / (2 * torch.where(peak > 0, peak, 1.0)) + 0.5

    def codes(self, w):
        if self.wbits == 1:
            return sign(w).to(torch.int8)
        return uniform_levels(self.tanh_unit(w), self.wbits).to(torch.int16)

    def input(self, x):
        # DoReFa section 2.5: activations quantize_k(clip(x, 0, 1)), formed in fp32 under autocast
        # too
        return ((x, None, None) if self.abits == 32 or self.sees_image
                else quantize_uniform(at_least_fp32(x).clamp(0, 1), self.abits))


def quantize_linear(x, k, span):
    """(x_q, codes, scale): QNN's k-bit linear quantization of x over a range `span` wide, 2^k
    levels with zero among them, straight-through."""
    levels, step = linear_levels(x.detach(), k, span)
    codes = torch.int8 if 2 ** (k - 1) <= 127 else torch.int16  # 8 bits reach +128
    return with_codes(x, levels, step, codes)


def linear_levels(x, k, span):
    """(integer levels of x, step) of QNN's k-bit linear quantization over a range `span` wide."""
    # QNN (Hubara et al. 2016, sec. 3.1): LinearQuant(x) = Clip(round(x / step) * step, minV, maxV);
    # the authors' code (BinaryNet.pytorch, Quantize) sets step = span / (2^k - 1) and the range to
    # [-(2^(k-1) - 1), 2^(k-1)] steps: 2 bits give {-1, 0, 1, 2} * step, so over [-1, 1] (step 2/3)
    # -1 maps to -2/3 and +1 to +4/3, the authors' level set. A span of 0 (a constant tensor) takes
    # step 1, so zeros stay 0, not 0/0.
    n, (low, high) = 2 ** k - 1, linear_range(k)
    span = torch.where(span > 0, span, n)
    # x * (n / span), as the authors' code: 1 * (3 / 2) is 1.5 exactly, where 1 / fp32(2/3) rounds
    # down to 1
    levels = (x * (n / span)).round_().clamp_(low, high).add_(0.0)  # + 0: round's -0 is 0
    return levels, span / n


def linear_range(k):
    """The lowest and highest of quantize_linear's k-bit codes."""
    return -(2 ** (k - 1) - 1), 2 ** (k - 1)


class QNN(nn.Module):
    """Quantized neural networks: k-bit weights and activations (quantize_linear), binary by sign
    with the clipped STE; latent weights clipped to [-1, 1] after every step (BNN Algorithm 1, at
    every bit width below 32), and the network's first layer fed the image itself, 8-bit already
    (BNN sec. 1.6): only its weights quantized."""

    # BNN/QNN nets have hardtanh where others have ReLU: after a ReLU, sign(x) = +1 and half the
    # k-bit levels go unused
    quantized_activation_nonlinearity = Hardtanh

    def __init__(self, layer, opts):
        super().__init__()
        self.wbits, self.abits = opts.get("wbits") or 32, opts.get("abits") or 32
        self.weight_bits = self.wbits
        self.surrogate = opts.get("ste") or "clipped"
        self.sees_image = opts.get("first", False)
        low, high = linear_range(self.wbits)
        self.code_levels = (BINARY if self.wbits == 1 else None if self.wbits == 32
                            else tuple(range(low, high + 1)))

    def weight(self, w):
        if self.wbits == 32:
            return w
        if self.wbits == 1:
            return binarize(w, self.surrogate, self.progress)
        # the weights' span is their own max - min, as the authors' code has it
        return quantize_linear(w, self.wbits, w.detach().max() - w.detach().min())[0]

    def codes(self, w):
        if self.wbits == 1:
            return sign(w).to(torch.int8)
        return linear_levels(w, self.wbits, w.max() - w.min())[0].to(torch.int16)

    def input(self, x):
        if self.abits == 32 or self.sees_image:
            return x, None, None
        if self.abits == 1:
            s = binarize(x, self.surrogate, self.progress)
            return s, codes_for_backward(s), scalar(1.0, x)
        # the activations' span is hardtanh's fixed [-1, 1], the paper's [minV, maxV]: the authors'
        # code takes the batch's max - min, which is 2 in training but makes one image's codes
        # depend on the rest of its batch
        x = at_least_fp32(x)
        return quantize_linear(x, self.abits, scalar(2.0, x))

    @torch.no_grad()
    def after_step(self, layer):
        if self.wbits < 32:
            layer.weight.clamp_(-1, 1)


# ----------------------------------------------------------------------------- registry

KBITS = (1, 2, 3, 4, 5, 6, 7, 8, 32)
# wbits, abits: the bit widths --wbits and --abits take (None: the flag does not apply);
# takes_ste: whether --ste applies. Without a flag a method takes its class's default: TWN 2-bit
# weights, XNOR 32-bit inputs; DoReFa and QNN have none (qlayers.NEEDS_BITS: train.py asks for
# both widths)
Method = namedtuple("Method", "quantizer wbits abits takes_ste")
METHODS = {
    "fp32": None,  # no conversion: the full-precision baseline
    "bitnet": Method(BitNet, None, None, False),
    "ttq": Method(TTQ, None, None, False),
    "twn": Method(TWN, (2, 32), None, True),
    "bc": Method(BinaryConnect, None, None, True),
    "sr": Method(StochasticRounding, None, None, False),
    "xnor": Method(XNOR, (1,), (1, 32), True),
    "dorefa": Method(DoReFa, KBITS, KBITS, False),
    "qnn": Method(QNN, KBITS, KBITS, True),
}
