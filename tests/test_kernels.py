"""Each piece of kernels.py against the plain expression it stands for, forward and backward."""
import torch
import torch.nn.functional as F

import estimators
import kernels


def grads(fn, *inputs, upstream):
    """(output, gradient of each input) of fn for an upstream gradient."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    out = fn(*leaves)
    out.backward(upstream)
    return out.detach(), [t.grad for t in leaves]


def test_straight_through_is_ste_in_one_node_and_returns_q_exactly():
    x, q = torch.randn(50), torch.randn(50).round()
    g = torch.randn(50)
    out, (gx,) = grads(lambda x: kernels.StraightThrough.apply(x, q), x, upstream=g)
    plain, (gx_plain,) = grads(lambda x: x + (q - x).detach(), x, upstream=g)
    assert torch.equal(out, q) and torch.allclose(plain, q)
    assert torch.equal(gx, gx_plain) and torch.equal(gx, g)
    assert torch.equal(estimators.ste(x, q), q)


def test_with_codes_is_ste_of_levels_times_scale_and_keeps_the_levels_in_a_byte():
    x = torch.randn(4, 3)
    levels, scale = (x * 3).round(), torch.tensor(1 / 3)
    g = torch.randn(4, 3)
    (x_q, codes, s), = [kernels.with_codes(x.clone().requires_grad_(), levels.clone(), scale)]
    out, (gx,) = grads(lambda x: kernels.with_codes(x, levels.clone(), scale)[0], x, upstream=g)
    assert torch.equal(out, levels * scale) and torch.equal(gx, g)
    assert codes.dtype == torch.int8 and torch.equal(codes.float(), levels) and s is scale
    with torch.no_grad():  # evaluation keeps nothing for a backward
        assert kernels.with_codes(x, levels.clone(), scale)[1] is None


def test_at_least_fp32_and_scalar_are_the_plain_conversions():
    half = torch.randn(5).bfloat16()
    assert torch.equal(kernels.at_least_fp32(half), half.float())
    x = torch.randn(5, dtype=torch.float64)
    assert kernels.at_least_fp32(x) is x
    assert torch.equal(kernels.scalar(0.25, x), torch.tensor(0.25, dtype=torch.float64))


def test_layer_norm_over_sample_is_f_layer_norm_and_keeps_the_layout():
    x = torch.randn(3, 4, 5, 5, dtype=torch.float64).contiguous(memory_format=torch.channels_last)
    g = torch.randn(3, 4, 5, 5, dtype=torch.float64)
    out, (gx,) = grads(kernels.LayerNormOverSample.apply, x, upstream=g)
    plain, (gx_plain,) = grads(lambda x: F.layer_norm(x, x.shape[1:]), x, upstream=g)
    assert torch.allclose(out, plain) and torch.allclose(gx, gx_plain)
    assert kernels.LayerNormOverSample.apply(x).is_contiguous(memory_format=torch.channels_last)


def test_hardtanh_from_output_is_torchs_hardtanh_bounds_included():
    x = torch.tensor([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    g = torch.arange(1.0, 8.0)
    out, (gx,) = grads(kernels.HardtanhFromOutput.apply, x, upstream=g)
    plain, (gx_plain,) = grads(F.hardtanh, x, upstream=g)
    assert torch.equal(out, plain) and torch.equal(gx, gx_plain)


def test_conv_from_codes_is_conv2d_of_codes_times_scale():
    torch.manual_seed(0)
    codes = torch.randint(-3, 4, (2, 3, 6, 6), dtype=torch.int8)
    scale = torch.tensor(0.5, dtype=torch.float64)
    x_q = codes.double() * scale
    w, b = torch.randn(4, 3, 3, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    g = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    def from_codes(x, w, b):  # stride, padding, dilation 1, one group
        return kernels.ConvFromCodes.apply(x, codes, scale, w, b, (1, 1), (1, 1), (1, 1), 1)

    out, grads_k = grads(from_codes, x_q, w, b, upstream=g)
    plain, grads_p = grads(lambda x, w, b: F.conv2d(x, w, b, 1, 1), x_q, w, b, upstream=g)
    assert torch.allclose(out, plain)
    assert all(torch.allclose(a, p) for a, p in zip(grads_k, grads_p))
