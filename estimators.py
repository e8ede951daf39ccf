"""The straight-through estimators: ste(x, q), and sign and ternarization with a surrogate
derivative in the backward pass (SURROGATES, the eleven of the STE ablation, each named after its
paper)."""

import torch

from kernels import StraightThrough


def ste(x, q):
    """Forward q, backward identity (Bengio et al. 2013): x + (q - x).detach(), but exactly q
    (that sum is off q in its last bit for a third of the weights); q computed without autograd."""
    return StraightThrough.apply(x, q)


def _ede(x, progress):
    # IR-Net (Qin et al. 2020, eq. 12): t = T_min * 10^(progress * log10(T_max / T_min)),
    # T_min = 0.1, T_max = 10; k = max(1/t, 1); progress may be a 0-d tensor (compiled code then
    # takes its value without recompiling)
    t = 0.1 * 10 ** (2.0 * torch.as_tensor(progress, dtype=torch.float32, device=x.device))
    return (1 / t).clamp_min(1.0) * t * (1 - torch.tanh(t * x) ** 2)


def _reste(x, progress, t=1.5, interval=0.1, o_end=3.0):
    # ReSTE (Wu et al. 2023, eq. 9, and the authors' code): d/dx sign(x)|x|^(1/o) =
    # (1/o)|x|^(1/o - 1) for interval < |x| <= t, the secant slope interval^(1/o) / interval inside
    # |x| <= interval (bounded near 0), 0 past t; o annealed from 1 (the identity) to o_end = 3 as
    # the authors' main.py has it: o = 1 + beta (o_end - 1), beta = 1 - cos(progress pi / 2)
    # (o = 1.586 half-way)
    fraction = torch.as_tensor(progress, dtype=torch.float32, device=x.device)
    beta = 1 - torch.cos(fraction * (torch.pi / 2))
    o, a = 1 + beta * (o_end - 1), x.abs()
    return torch.where(a > interval, a.clamp_min(interval) ** (1 / o - 1) / o,
                       interval ** (1 / o - 1)) * (a <= t)


def _swish(x, progress, beta=5.0):
    # BNN+ (Darabi et al. 2018), SignSwish: beta (2 - beta x tanh(beta x / 2)) / (1 + cosh(beta x)),
    # written with 1 / (1 + cosh z) = 2 e / (1 + e)^2, e = exp(-|z|), which stays finite where cosh
    # overflows; x clamped to +-30, where e and the value are 0 in fp32 already, so that
    # beta x tanh never meets inf * 0
    x = x.clamp(-30, 30)
    e = torch.exp(-beta * x.abs())
    return beta * (2 - beta * x * torch.tanh(beta * x / 2)) * 2 * e / (1 + e) ** 2


# Surrogate derivatives d sign(x)/dx for the backward pass; x is the input of sign. `progress` in
# [0, 1] is the fraction of training done (EDE and ReSTE anneal with it), a float or a 0-d tensor.
# Each is written as its paper has it. The STE ablation applies them to the raw latent weight,
# where |w| is about 0.05 in ResNet-20: there each acts mostly as a constant factor on the weight
# gradient, its value near 0 (triangle 1, as the identity; gaussian 0.8; polynomial, sigmoid,
# arctan 2; swish 5). ste_factors.py measures the factors; docs/quantizers.md has the table.
SURROGATES = {
    # Bengio et al. 2013: the identity
    "identity": lambda x, progress: torch.ones_like(x),
    # Hubara et al. 2016 (BNN): hardtanh, gradient cancelled where |x| > 1 (1_{|x| <= 1}, bound
    # included)
    "clipped": lambda x, progress: x.abs() <= 1,  # a bool mask: one byte kept per value
    # tanh as a smooth sign: d tanh(x)/dx = 1 - tanh^2(x)
    "tanh": lambda x, progress: 1 - torch.tanh(x) ** 2,
    # Bi-Real Net (Liu et al. 2018, eq. 6), ApproxSign: 2 - 2|x| for |x| < 1, else 0
    "polynomial": lambda x, progress: (2 - 2 * x.abs()).clamp_min(0),
    # BNN+ (Darabi et al. 2018), SignSwish with beta = 5
    "swish": _swish,
    # sign approximated by 2*sigmoid(4x) - 1: derivative 8 * s * (1 - s), s = sigmoid(4x)
    "sigmoid": lambda x, progress: 8 * torch.sigmoid(4 * x) * (1 - torch.sigmoid(4 * x)),
    # ATan surrogate (Fang et al. 2021): sign ~ (2/pi) * arctan(pi*x), derivative 2 / (1 + (pi*x)^2)
    "arctan": lambda x, progress: 2 / (1 + (torch.pi * x) ** 2),
    # IR-Net (Qin et al. 2020), EDE: k * t * (1 - tanh^2(t*x)), k = max(1/t, 1), t annealed from
    # 0.1 to 10
    "ede": _ede,
    "reste": _reste,
    # triangle (Esser et al. 2016, a spike's surrogate): max(0, 1 - |x|); integrates to 1, where
    # sign's jump is 2
    "triangle": lambda x, progress: (1 - x.abs()).clamp_min(0),
    # Gaussian (Wu et al. 2018, STBP, a spike's surrogate) with sigma = 0.5:
    # exp(-x^2 / (2 sigma^2)) / (sigma sqrt(2 pi)); integrates to 1
    "gaussian": lambda x, progress: torch.exp(-2 * x ** 2) / (0.5 * (2 * torch.pi) ** 0.5),
}


# The functions each surrogate is the derivative of (f(0) = 0), the backward's implied forward:
# ReSTE (Wu et al. 2023, sec. 3) measures an estimator by how far this f lies from sign. The
# surrogates that integrate to 1 (triangle, gaussian) give an f that ends at +-1/2.
ESTIMATES = {
    "identity": lambda x, progress: x,
    "clipped": lambda x, progress: x.clamp(-1, 1),
    "tanh": lambda x, progress: torch.tanh(x),
    "polynomial": lambda x, progress: _approx_sign(x.clamp(-1, 1)),
    "swish": lambda x, progress: _sign_swish(x),
    "sigmoid": lambda x, progress: 2 * torch.sigmoid(4 * x) - 1,
    "arctan": lambda x, progress: (2 / torch.pi) * torch.atan(torch.pi * x),
    "ede": lambda x, progress: _ede_forward(x, progress),
    "reste": lambda x, progress: _reste_forward(x, progress),
    "triangle": lambda x, progress: _approx_sign(x.clamp(-1, 1)) / 2,
    "gaussian": lambda x, progress: 0.5 * torch.erf(2 ** 0.5 * x),
}
# the surrogates that are exactly zero past a bound: a latent weight there gets no gradient
BOUNDED = ("clipped", "polynomial", "reste", "triangle")


def _approx_sign(c):
    # Bi-Real Net's ApproxSign on [-1, 1]: 2c - c|c| (half of it: the triangle's integral)
    return 2 * c - c * c.abs()


def _sign_swish(x, beta=5.0):
    # BNN+'s SignSwish: 2 sigmoid(beta x) (1 + beta x (1 - sigmoid(beta x))) - 1
    s = torch.sigmoid(beta * x)
    return 2 * s * (1 + beta * x * (1 - s)) - 1


def _ede_forward(x, progress):
    t = 0.1 * 10 ** (2.0 * torch.as_tensor(progress, dtype=torch.float32, device=x.device))
    return (1 / t).clamp_min(1.0) * torch.tanh(t * x)


def _reste_forward(x, progress, t=1.5, interval=0.1, o_end=3.0):
    # sign(x) min(|x|, t)^(1/o), the secant line x interval^(1/o - 1) inside |x| <= interval
    fraction = torch.as_tensor(progress, dtype=torch.float32, device=x.device)
    o = 1 + (1 - torch.cos(fraction * (torch.pi / 2))) * (o_end - 1)
    a = x.abs()
    return torch.where(a > interval, x.sign() * a.clamp(interval, t) ** (1 / o),
                       x * interval ** (1 / o - 1))


def sign(x):
    """sign(x) in {-1, +1} with sign(0) = sign(-0.0) = +1, as the papers define it (x >= 0 -> +1):
    torch.sign gives 0 at 0, and + 1/2 moves it to +1 (three cheap passes; torch.where takes three
    times as long). Compiled, out of place: torch 2.11's compiler dropped the gradient of a custom
    Function whose forward mutates its own temporaries (inductor fuses either form)."""
    if torch.compiler.is_compiling():
        return torch.sign(torch.sign(x) + 0.5)
    return torch.sign(x).add_(0.5).sign_()


class SignWithSurrogate(torch.autograd.Function):
    """Forward sign(x), backward grad * surrogate'(x); the derivative is computed in forward and
    kept instead of x (the clipped STE's is a one-byte mask)."""

    @staticmethod
    def forward(ctx, x, surrogate, progress):
        if surrogate != "identity" and ctx.needs_input_grad[0]:
            ctx.save_for_backward(SURROGATES[surrogate](x, progress))
        return sign(x)

    @staticmethod
    def backward(ctx, grad):
        return (grad * ctx.saved_tensors[0] if ctx.saved_tensors else grad), None, None


def binarize(x, surrogate="identity", progress=0.0):
    return SignWithSurrogate.apply(x, surrogate, progress)


class TernarizeWithSurrogate(torch.autograd.Function):
    """Forward +1 where x > delta, -1 where x < -delta, 0 where |x| <= delta (TWN eq. 3: the
    thresholds themselves map to 0); backward as the mean of two shifted signs,
    (sign(x - delta) + sign(x + delta)) / 2, so each threshold carries half the surrogate (and the
    identity STE stays the identity)."""

    @staticmethod
    def forward(ctx, x, delta, surrogate, progress):
        if surrogate != "identity" and ctx.needs_input_grad[0]:
            ctx.save_for_backward(0.5 * (SURROGATES[surrogate](x - delta, progress).to(x.dtype)
                                         + SURROGATES[surrogate](x + delta, progress).to(x.dtype)))
        return (x > delta).to(x.dtype) - (x < -delta).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return (grad * ctx.saved_tensors[0] if ctx.saved_tensors else grad), None, None, None


def ternarize(x, delta, surrogate="identity", progress=0.0):
    return TernarizeWithSurrogate.apply(x, delta, surrogate, progress)
