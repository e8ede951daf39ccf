"""The TTQ paper's CIFAR-10 setup as its authors' code ran it: the pre-activation ResNets, the
scales' learning rate when TTQ fine-tunes, and the phase script's runs."""
import pytest
import torch
import torch.nn as nn

import batches
import datasets
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
    # tensorpack: conv W ~ N(0, 2 / (9 c_out)); FullyConnected W ~ uniform unit scaling x 1.43,
    # b = 0
    torch.manual_seed(0)
    model = models.build_model("preact_resnet20", 10)
    w = model.layer3[1].conv1.weight  # 64 x 64 x 3 x 3
    assert w.std().item() == pytest.approx((2 / (9 * 64)) ** 0.5, rel=0.02)
    bound = 1.43 * (3 / 64) ** 0.5
    assert model.fc.weight.abs().max().item() <= bound
    assert model.fc.weight.abs().max().item() > 0.95 * bound
    assert torch.equal(model.fc.bias, torch.zeros(10))


def test_pixel_normalization_is_the_authors_x_minus_the_pixel_mean_over_128_minus_1():
    torch.manual_seed(0)
    x = torch.randint(0, 256, (10, 3, 4, 5), dtype=torch.uint8)
    mean, std = datasets.pixel_stats(x)
    by_hand = (x.double() - x.double().mean(0)) / 128 - 1
    for m, s in ((mean, std), (torch.tensor(mean), torch.tensor(std))):  # as lists or tensors
        got = batches.normalize(x, m, s, torch.float32)
        assert got.shape == x.shape
        assert torch.allclose(got.double(), by_hand, atol=1e-6)
    # per channel as before: (x - m_c) / s_c
    got = batches.normalize(x, [1.0, 2.0, 3.0], [2.0, 4.0, 8.0], torch.float32)
    c = torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1), torch.tensor([2.0, 4.0, 8.0])
    assert torch.equal(got, (x.float() - c[0]) / c[1].view(1, 3, 1, 1))


def ttq_layer_and_optimizer(tmp_path, extra):
    """A TTQ conv (scales started as train.py starts them) and train.make_optimizer's SGD for the
    flags `extra`, without Nesterov, so that a first step moves p by lr * (grad + decay * p)."""
    import flags
    import qlayers
    import train
    (tmp_path / "final.pt").write_bytes(b"")  # --init-from must name a file
    args = flags.resolve(flags.parse_args(
        ["--quant", "ttq", "--device", "cpu", "--no-nesterov", "--weight-decay", "0.01", *extra]))
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 8, 3, bias=False)
    model = nn.Sequential(conv)
    qlayers.quantize_model(model, "ttq", init_from=args.init_from)
    optimizer = train.make_optimizer(args, model)
    for group in optimizer.param_groups:  # as train.py's loop sets it
        group["lr"] = args.lr * group["lr_scale"]
    return args, conv, optimizer


@pytest.mark.parametrize("init_from", [True, False])
def test_ttq_scales_train_as_the_authors_when_fine_tuning_and_slower_from_scratch(tmp_path,
                                                                                 init_from):
    extra = ["--init-from", str(tmp_path / "final.pt")] if init_from else []
    args, conv, optimizer = ttq_layer_and_optimizer(tmp_path, extra)
    scales = [p for n, p in conv.named_parameters() if n.startswith("quantizer.")]
    assert len(scales) == 2
    before = [s.detach().clone() for s in scales]
    conv(torch.randn(2, 4, 6, 6)).square().sum().backward()
    grads = [s.grad.clone() for s in scales]
    optimizer.step()
    # under --init-from: the weights' lr (0.1) and decay (0.01), as the authors' fine-tuning;
    # from scratch: 0.01 x the lr and no decay
    lr, decay = (0.1, 0.01) if init_from else (0.001, 0.0)
    assert args.scale_lr == (1.0 if init_from else 0.01)
    for s, s0, g in zip(scales, before, grads):
        assert g.abs().item() > 0
        assert torch.allclose(s.detach(), s0 - lr * (g + decay * s0))


def test_an_explicit_scale_lr_is_kept_under_init_from(tmp_path):
    args, _, _ = ttq_layer_and_optimizer(
        tmp_path, ["--init-from", str(tmp_path / "final.pt"), "--scale-lr", "0.5"])
    assert args.scale_lr == 0.5


@pytest.mark.parametrize("extra,tag", [([], "ttq"), (["--scale-lr", "0.01"], "ttq"),
                                       (["--scale-lr", "1"], "ttq_scale-lr1"),
                                       (["--init-from", "final.pt"], "ttq"),
                                       (["--init-from", "final.pt", "--scale-lr", "0.01"],
                                        "ttq_scale-lr0.01")])
def test_a_scale_lr_away_from_its_default_names_its_own_run_folder(tmp_path, extra, tag):
    args, _, _ = ttq_layer_and_optimizer(
        tmp_path, [str(tmp_path / w) if w == "final.pt" else w for w in extra])
    assert args.tag == tag


def test_one_lr_factor_per_milestone_as_the_authors_fp32_schedule():
    import flags
    import train
    # tensorpack's cifar10-resnet.py: 0.1, x0.1 at 82 and 123, 0.0002 at 300 (of their epochs)
    args = flags.resolve(flags.parse_args(
        ["--device", "cpu", "--schedule", "step", "--milestones", "164,246,600", "--gamma",
         "0.1,0.1,0.2", "--epochs", "800", "--warmup-epochs", "0"]))
    lrs = [train.lr_at(args, epoch * 195, 195) for epoch in (0, 163, 164, 245, 246, 599, 600)]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 0.0002])
    # one factor stays a number, as before: 0.1 ** k
    args = flags.resolve(flags.parse_args(
        ["--device", "cpu", "--schedule", "step", "--milestones", "2,4", "--epochs", "6",
         "--warmup-epochs", "0"]))
    assert args.gamma == 0.1 and train.lr_at(args, 40, 10) == 0.1 * 0.1 ** 2


@pytest.mark.parametrize("flags_given,message", [
    (["--gamma", "0.1,0.2"], "--gamma gives 2 factors for 3 milestones"),
    (["--gamma", "1.5"], "--gamma factors must be in (0, 1]"),
    (["--model", "preact_resnet20", "--shortcut", "B"], "preact_resnet20 has its own shortcut"),
    (["--model", "vgg16", "--shortcut", "B"], "vgg16 has its own shortcut"),
    (["--dataset", "imagenet", "--normalize", "pixel"], "--normalize pixel needs images"),
])
def test_what_the_authors_setup_cannot_take_is_one_line(capsys, flags_given, message):
    import flags
    with pytest.raises(SystemExit) as stop:
        flags.resolve(flags.parse_args(["--device", "cpu", "--schedule", "step", "--milestones",
                                        "80,120,300", "--epochs", "400", *flags_given]))
    assert stop.value.code == 2 and message in capsys.readouterr().err
