"""The TTQ paper's CIFAR-10 setup as its authors' code ran it: the pre-activation ResNets, the
scales' learning rate when TTQ fine-tunes, and the phase script's runs."""
import pytest
import torch
import torch.nn as nn

import models


@pytest.mark.parametrize("depth,count", [(20, 269_722), (32, 464_154), (44, 658_586),
                                         (56, 853_018)])
def test_pre_activation_resnets_have_the_post_activation_parameter_count(depth, count):
    # 16 + 32 + 64 channel BNs move from after the convs to before them; the stem's, the first
    # block's missing one and the final one balance: the same count either way
    pre = models.build_model(f"preact_resnet{depth}", 10)
    post = models.build_model(f"resnet{depth}", 10)
    assert sum(p.numel() for p in pre.parameters()) == count
    assert sum(p.numel() for p in post.parameters()) == count


def outputs_of(model, names, x):
    """{module name: (its input, its output)} of one forward."""
    seen, modules = {}, dict(model.named_modules())
    hooks = [modules[n].register_forward_hook(
        lambda m, i, o, n=n: seen.__setitem__(n, (i[0].detach(), o.detach()))) for n in names]
    model(x)
    for h in hooks:
        h.remove()
    return seen


def test_pre_activation_order_the_last_norm_sees_the_residual_sum():
    torch.manual_seed(0)
    model = models.build_model("preact_resnet20", 10).eval()
    names = ["layer3.2", "layer3.2.conv2", "bn_last", "layer2.0", "layer2.0.bn1", "layer1.0"]
    seen = outputs_of(model, names, torch.randn(2, 3, 32, 32))
    block_in, block_out = seen["layer3.2"]
    assert torch.equal(seen["bn_last"][0], block_out)  # the final BN normalizes the block's sum
    assert torch.allclose(block_out, seen["layer3.2.conv2"][1] + block_in)  # conv2 + identity
    # a block normalizes its input first; the down-sampling shortcut is a 2x2 average of that
    # raw input padded with zero channels (8 either side: 16 -> 32)
    x2, y2 = seen["layer2.0"]
    assert torch.equal(seen["layer2.0.bn1"][0], x2)
    block = model.layer2[0]
    residual = block.conv2(block.act2(block.bn2(block.conv1(block.act1(block.bn1(x2))))))
    pooled = nn.functional.avg_pool2d(x2, 2)
    zeros = torch.zeros_like(pooled[:, :8])
    assert torch.allclose(y2 - residual, torch.cat([zeros, pooled, zeros], 1), atol=1e-6)
    # the first block has no leading BN-ReLU: the stem's precedes it
    assert isinstance(model.layer1[0].bn1, nn.Identity)
    assert isinstance(model.layer1[1].bn1, nn.BatchNorm2d)


def test_pre_activation_resnets_start_from_the_authors_init():
    # tensorpack: conv W ~ N(0, 2 / (9 c_out)); FullyConnected W ~ uniform unit scaling x 1.43, b = 0
    torch.manual_seed(0)
    model = models.build_model("preact_resnet20", 10)
    w = model.layer3[1].conv1.weight  # 64 x 64 x 3 x 3
    assert w.std().item() == pytest.approx((2 / (9 * 64)) ** 0.5, rel=0.02)
    bound = 1.43 * (3 / 64) ** 0.5
    assert model.fc.weight.abs().max().item() <= bound
    assert model.fc.weight.abs().max().item() > 0.95 * bound
    assert torch.equal(model.fc.bias, torch.zeros(10))
