"""Autograd functions and helpers under the quantizers and layers: each computes a plain expression
with less memory, in another memory layout or exactly under autocast, and says the expression it
equals and what it saves."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class StraightThrough(torch.autograd.Function):
    """ste(x, q) as one autograd node that computes nothing: q itself comes out (as a view), the
    gradient goes to x unchanged. q is computed without autograd beforehand."""

    @staticmethod
    def forward(ctx, x, q):
        return q

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def codes_for_backward(levels, dtype=torch.int8):
    """The integer levels in one byte, for a conv to keep for its backward (and to compute with
    under autocast, where they stay exact); None when neither applies."""
    keep = torch.is_grad_enabled() or torch.is_autocast_enabled(levels.device.type)
    return levels.to(dtype) if keep else None


def with_codes(x, levels, scale, dtype=torch.int8):
    """(x_q, codes, scale) from the integer levels of a quantizer, x_q = levels * scale, the
    gradient going straight through to x."""
    codes = codes_for_backward(levels, dtype)
    return StraightThrough.apply(x, levels.mul_(scale)), codes, scale


def at_least_fp32(x):
    """A bf16 or fp16 activation (autocast's) in fp32, so that a quantizer's arithmetic (scales,
    levels, thresholds) is fp32 whatever the autocast state; fp32 and fp64 pass unchanged."""
    return x.float() if x.dtype in (torch.bfloat16, torch.float16) else x


def scalar(value, like):
    # a 0-d tensor on like's device and dtype, made there (no host-to-device copy)
    return torch.full((), value, dtype=like.dtype, device=like.device)


class LayerNormOverSample(torch.autograd.Function):
    """F.layer_norm(x, x.shape[1:]) without affine (eps 1e-5) in x's own memory layout, where
    F.layer_norm returns a channels_last input contiguous (two copies a layer); keeps x (which the
    layer before keeps anyway), the mean and 1/sigma, as F.layer_norm does, and rebuilds y in the
    backward."""

    @staticmethod
    def forward(ctx, x):
        dims = tuple(range(1, x.dim()))
        var, mean = torch.var_mean(x, dims, correction=0, keepdim=True)
        rstd = torch.rsqrt(var + 1e-5)
        ctx.save_for_backward(x, mean, rstd)
        return (x - mean) * rstd

    @staticmethod
    def backward(ctx, grad):
        # dx = (g - mean(g) - y mean(g y)) / sigma, the means over the sample's features
        x, mean, rstd = ctx.saved_tensors
        y, dims = (x - mean) * rstd, tuple(range(1, grad.dim()))
        return rstd * (grad - grad.mean(dims, keepdim=True)
                       - y * (grad * y).mean(dims, keepdim=True))


class HardtanhFromOutput(torch.autograd.Function):
    """hardtanh(x) = clip(x, -1, 1) with torch's gradient 1_{-1 < x < 1}, read from the output as
    1_{|y| < 1}: the backward keeps y, which the next quantizer keeps anyway, where torch's hardtanh
    keeps a copy of x."""

    @staticmethod
    def forward(ctx, x):
        y = x.clamp(-1, 1)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.saved_tensors[0].abs() < 1)


class Hardtanh(nn.Module):
    def forward(self, x):
        return HardtanhFromOutput.apply(x)


class ConvFromCodes(torch.autograd.Function):
    """conv2d(x_q, w) that keeps x_q for its backward as (codes, scale), one byte per value instead
    of a float copy; the weight gradient rebuilds x_q = codes * scale."""

    @staticmethod
    def forward(ctx, x_q, codes, scale, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(codes, scale, weight)
        ctx.geometry = stride, padding, dilation, groups
        ctx.bias_shape = None if bias is None else bias.shape
        if torch.is_autocast_enabled(x_q.device.type):
            # bf16 holds the integer codes exactly, not codes * scale: scale the output
            y = F.conv2d(codes.to(x_q.dtype), weight, None, stride, padding, dilation, groups)
            # scaled in fp32, rounded once: the output stays in autocast's dtype
            y = (y * scale).to(y.dtype)
            return y if bias is None else y + bias.to(y.dtype).view(-1, 1, 1)
        return F.conv2d(x_q, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad):
        codes, scale, weight = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geometry
        # two passes: a mixed int8-float multiply is ten times slower
        x_q = codes.to(grad.dtype).mul_(scale.to(grad.dtype))
        grad_x, grad_w, grad_b = torch.ops.aten.convolution_backward(
            grad, x_q, weight.to(grad.dtype), ctx.bias_shape, stride, padding, dilation, False,
            [0, 0], groups,
            [ctx.needs_input_grad[0], ctx.needs_input_grad[3], ctx.bias_shape is not None])
        return grad_x, None, None, grad_w, grad_b, None, None, None, None
