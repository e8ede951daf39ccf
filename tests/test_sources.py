"""The methods as their sources have them, on inputs that broke them: DoReFa's gradient,
BinaryConnect's H and exact +-H, TTQ's scales, degenerate layers, batch-independent evaluation and
absurd logits."""
import math

import pytest
import torch
import torch.nn as nn

import batches
import divergence
import estimators
import flags
import models
import qlayers
import quant
import train
from conftest import train_run

# every method and bit width with a distinct quantizer path: (method, options for quantize_model)
METHODS = {
    "bitnet": ("bitnet", {}), "ttq": ("ttq", {}), "twn": ("twn", {}), "bc": ("bc", {}),
    "bc-stochastic": ("bc", dict(stochastic=True)), "bc-no-bn": ("bc", dict(bn=False)),
    "sr": ("sr", {}),
    "xnor-w1a1": ("xnor", dict(wbits=1, abits=1)), "xnor-w1a32": ("xnor", dict(wbits=1, abits=32)),
    "dorefa-w2a2": ("dorefa", dict(wbits=2, abits=2)),
    "dorefa-w1a1": ("dorefa", dict(wbits=1, abits=1)),
    "qnn-w2a2": ("qnn", dict(wbits=2, abits=2)), "qnn-w1a1": ("qnn", dict(wbits=1, abits=1)),
    "qnn-w8a8": ("qnn", dict(wbits=8, abits=8)), "twn-swish": ("twn", dict(ste="swish")),
    "bc-reste": ("bc", dict(ste="reste")),
}
DEGENERATE = {"zero": lambda w: torch.zeros_like(w), "constant": lambda w: torch.full_like(w, 0.1),
              "one sign": lambda w: w.abs()}


def test_dorefa_weight_gradient_goes_through_max_tanh_as_the_authors_code():
    # eq. 9 with the STE on quantize_k: d w_k / dw = d/dw [tanh(w) / max|tanh(w)|], max included
    # (tensorpack)
    torch.manual_seed(0)
    w = torch.randn(6, 36, dtype=torch.float64)
    layer = nn.Linear(36, 6, bias=False).double()
    layer.weight.data = w.clone()
    qlayers.quantize_model(nn.Sequential(layer), "dorefa", wbits=2, abits=32)
    g = torch.randn(6, 36, dtype=torch.float64)
    layer.quantizer.weight(layer.weight).backward(g)
    plain = w.clone().requires_grad_()
    (torch.tanh(plain) / torch.tanh(plain).abs().max()).backward(g)
    assert torch.allclose(layer.weight.grad, plain.grad)
    top = w.abs().argmax()  # only the arg-max weight's gradient differs from a detached max
    detached = g * (1 - torch.tanh(w) ** 2) / torch.tanh(w).abs().max()
    assert abs(layer.weight.grad.flatten()[top] - detached.flatten()[top]) > 1e-3


def test_binaryconnect_without_batch_norm_binarizes_to_glorots_bound():
    # BinaryConnect's code, H = "Glorot": sqrt(1.5 / (fan_in + fan_out)); a 3x3 conv 16 -> 32: fans
    # 144 and 288
    conv = nn.Conv2d(16, 32, 3, bias=False)
    qlayers.quantize_model(nn.Sequential(conv), "bc", bn=False)
    h = math.sqrt(1.5 / (144 + 288))
    assert math.isclose(conv.quantizer.h, h)
    assert set(conv.quantizer.weight(conv.weight).abs().unique().tolist()) == pytest.approx([h])
    conv.weight.data.fill_(0.5)
    qlayers.after_step(nn.Sequential(conv))
    assert torch.allclose(conv.weight, torch.full_like(conv.weight, h))  # clipped to [-H, H]
    with_bn = nn.Conv2d(16, 32, 3, bias=False)
    qlayers.quantize_model(nn.Sequential(with_bn), "bc")
    assert with_bn.quantizer.h == 1.0  # behind batch norm the authors' H = 1


@pytest.mark.parametrize("bn", [True, False])
def test_stochastic_binaryconnect_weights_are_exactly_plus_or_minus_h(bn):
    # eq. 2 draws +H or -H; w + (w_b - w).detach() is off w_b in its last bit for many weights
    torch.manual_seed(0)
    conv = nn.Conv2d(64, 64, 3, bias=False)
    qlayers.quantize_model(nn.Sequential(conv), "bc", stochastic=True, bn=bn)
    h = conv.quantizer.h
    w_b = conv.quantizer.train().weight(conv.weight)
    assert w_b.unique().tolist() == torch.tensor([-h, h]).tolist()  # h in fp32
    w_b.sum().backward()
    assert torch.equal(conv.weight.grad, torch.ones_like(conv.weight))


def test_binaryconnect_resnet20_without_batch_norm_has_sane_logits():
    # with +-1 weights and no batch norm ResNet-20's logits reached about 1e20 at initialisation
    torch.manual_seed(0)
    args = flags.resolve(flags.parse_args(["--model", "resnet20", "--dataset", "cifar10",
                                           "--quant", "bc", "--no-bn", "--device", "cpu"]))
    model, _ = train.build(args, 10, 32, 3)
    assert model(torch.randn(8, 3, 32, 32)).abs().max() < 100


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("kind", DEGENERATE)
def test_every_method_stays_finite_on_a_degenerate_layer(name, kind):
    # all-zero, constant and single-sign weights: finite weights, outputs and gradients, converted
    # and after a step
    method, opts = METHODS[name]
    torch.manual_seed(0)
    model = models.build_model("lenet5", 10, 28, 1, bn=opts.get("bn", True))
    for m in model.modules():
        if type(m) in qlayers.QUANTIZED:
            m.weight.data = DEGENERATE[kind](m.weight.data)
    qlayers.quantize_model(model, method, **opts)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 1, 28, 28), torch.arange(8)
    for _ in range(2):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        assert math.isfinite(loss.item())
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        optimizer.step()
        qlayers.after_step(model)
    for m in qlayers.quantized_layers(model):
        assert torch.isfinite(m.weight).all() and torch.isfinite(m.quantizer.weight(m.weight)).all()
    assert torch.isfinite(model(x)).all()


TINY = ["--model", "resnet20", "--dataset", "synthetic", "--device", "cpu", "--quiet",
        "--fake-data"]
BATCH_FLAGS = {"fp32": [], "bitnet": [], "ttq": [], "twn": [], "bc": [], "sr": [],
               "xnor": ["--wbits", "1", "--abits", "1"], "dorefa": ["--wbits", "2", "--abits", "2"],
               "qnn-w2a2": ["--wbits", "2", "--abits", "2"],
               "qnn-w4a4": ["--wbits", "4", "--abits", "4"]}


@pytest.mark.parametrize("name", BATCH_FLAGS)
def test_evaluation_does_not_depend_on_how_the_test_set_is_batched(name):
    # one image's prediction may not change with the other images in its batch (QNN's k-bit
    # activations did)
    args = flags.resolve(flags.parse_args([*TINY, "--quant", name.split("-")[0],
                                           *BATCH_FLAGS[name]]))
    data = batches.prepare_data(args)
    torch.manual_seed(0)
    model, _ = train.build(args, 10, 16, 3)
    train.train_epoch(train_run(args, model, data, 2), 0, dict(step=0, last_loss=None))
    model.eval()
    x = batches.to_input(args, data["test_x"], data)
    with torch.no_grad():
        alone = torch.cat([model(x[i:i + 1]) for i in range(len(x))])
        sevens = torch.cat([model(x[i:i + 7]) for i in range(0, len(x), 7)])
        whole = model(x)
    # the same class for every image (logits may differ in rounding: a conv sums in another order
    # per batch size)
    assert torch.equal(alone.argmax(1),
                       whole.argmax(1)) and torch.equal(sevens.argmax(1), whole.argmax(1))
    top1 = {train.evaluate(args, model, data, batch_size=b)[0] for b in (1, 7, 1024)}
    assert len(top1) == 1


def test_ttq_scales_get_a_gradient_in_every_layer_and_stay_positive():
    # a re-implementation whose scales got no gradient or went negative stalled at chance
    args = flags.resolve(flags.parse_args([*TINY, "--quant", "ttq"]))
    data = batches.prepare_data(args)
    torch.manual_seed(0)
    model, _ = train.build(args, 10, 16, 3)
    optimizer = train.make_optimizer(args, model)
    layers = qlayers.quantized_layers(model)
    state = dict(step=0, last_loss=None)
    for epoch in range(3):
        train.train_epoch(train_run(args, model, data, 2, optimizer=optimizer), epoch, state)
        for m in layers:
            assert m.quantizer.sp.grad != 0 and m.quantizer.sn.grad != 0
    wp = [m.quantizer.wp0 * m.quantizer.sp for m in layers]  # Wp = Wp0 * sp, Wn = Wn0 * sn
    wn = [m.quantizer.wn0 * m.quantizer.sn for m in layers]
    assert min(wp) > 0 and min(wn) > 0 and len(layers) == 20  # every conv and the fc


def test_the_divergence_check_sees_absurd_logits_behind_a_finite_loss():
    assert divergence.reason(2.3, 8.0) is None
    assert divergence.reason(float("nan"), 8.0) == "non-finite loss"
    assert "logits" in divergence.reason(1e19, 1e20)
    args = flags.resolve(flags.parse_args([*TINY]))
    data = batches.prepare_data(args)
    model, _ = train.build(args, 10, 16, 3)
    state = dict(step=0, last_loss=None)
    # the loss of logits * 1e6 is large but finite
    with pytest.raises(divergence.Diverged) as caught:
        train.train_epoch(train_run(args, model, data, 2, forward=lambda x: model(x) * 1e6), 0,
                          state)
    assert caught.value.args[0]["diverged_step"] == 1 and "logits" in caught.value.args[0]["reason"]


@pytest.mark.parametrize("name", estimators.SURROGATES)
def test_every_surrogate_is_finite_for_any_finite_input(name):
    # SignSwish's 1 + cosh(5x) overflowed past |x| ~ 18 and gave inf / inf
    x = torch.tensor([0.0, 0.05, -3.0, 20.0, -40.0, 1e10, -1e30, 3e38, -3e38])
    for progress in (0.0, 0.5, 1.0):
        assert torch.isfinite(torch.as_tensor(estimators.SURROGATES[name](x, progress),
                                              dtype=torch.float32)).all()
