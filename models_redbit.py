"""RedBit's CIFAR-10 networks (IT-Coimbra/RedBit, the quantization results table's code) as each
method's folder builds them: the 6n+2 ResNets post-activation, pre-activation (DoReFa-Net) and
BN -> binary conv -> ReLU (XNOR-Net), with 1x1 projection shortcuts; VGG-16 in three forms."""
import torch.nn as nn
import torch.nn.functional as F

VGG16_PLAN = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
              512, 512, 512, "M", 512, 512, 512, "M"]


def redbit_norm(bn, channels):
    """BatchNorm2d (PyTorch's defaults, as RedBit's), or Identity for the ablation (--no-bn)."""
    return nn.BatchNorm2d(channels) if bn else nn.Identity()


def redbit_conv(cin, cout, kernel, stride=1):
    """A square conv without bias, padded to keep the size (RedBit's 3x3 and 1x1 convs)."""
    return nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False)


def projection(cin, cout, stride, bn, norm_first=False):
    """The shortcut where a block changes the shape: 1x1 conv then BN (option B), or BN then 1x1
    conv (XNOR-Net's Downsample: the BN normalizes the binary conv's input)."""
    if norm_first:
        return nn.Sequential(redbit_norm(bn, cin), redbit_conv(cin, cout, 1, stride))
    return nn.Sequential(redbit_conv(cin, cout, 1, stride), redbit_norm(bn, cout))


# ------------------------------------------------------------ ResNet-20/50 (models/ResNet.py)

class RedBitBlock(nn.Module):
    """RedBit's BasicBlock of Baseline/, QNN/, TWN/ and TTQ/ (models/ResNet.py): conv-BN-ReLU-
    conv-BN plus the input, then ReLU; where the shape changes the input goes through a 1x1 conv
    and BN (option B), elsewhere unchanged."""

    def __init__(self, cin, cout, stride, bn):
        super().__init__()
        self.conv1, self.bn1 = redbit_conv(cin, cout, 3, stride), redbit_norm(bn, cout)
        self.conv2, self.bn2 = redbit_conv(cout, cout, 3), redbit_norm(bn, cout)
        self.act = nn.ReLU()
        changes = stride != 1 or cin != cout
        self.shortcut = projection(cin, cout, stride, bn) if changes else nn.Sequential()

    def forward(self, x):
        out = self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))
        return self.act(out + self.shortcut(x))


class RedBitPreActBlock(nn.Module):
    """DoReFa-Net/models/ResNet.py's BasicBlock, pre-activation: BN-ReLU-conv-BN-ReLU-conv plus the
    input, no ReLU after the sum; where the shape changes the input (not normalized) goes through a
    1x1 conv and BN. Every block has its BN-ReLU, the first too."""
    shortcut_norm_first = False  # the projection's order: 1x1 conv then BN

    def __init__(self, cin, cout, stride, bn):
        super().__init__()
        self.bn1, self.conv1 = redbit_norm(bn, cin), redbit_conv(cin, cout, 3, stride)
        self.bn2, self.conv2 = redbit_norm(bn, cout), redbit_conv(cout, cout, 3)
        self.act = nn.ReLU()
        changes = stride != 1 or cin != cout
        self.shortcut = (projection(cin, cout, stride, bn, self.shortcut_norm_first) if changes
                         else nn.Sequential())

    def forward(self, x):
        out = self.conv2(self.act(self.bn2(self.conv1(self.act(self.bn1(x))))))
        return out + self.shortcut(x)


class RedBitXnorBlock(RedBitPreActBlock):
    """XNOR-Net/models/ResNet.py's BasicBlock, the pre-activation block's layers in XNOR-Net's
    order: BN-conv-ReLU-BN-conv plus the input, then ReLU (the sign of a binary conv's input comes
    between its BN and it, in quant.XNOR); where the shape changes the input goes through BN and a
    1x1 conv (Downsample); no BN follows a conv."""
    shortcut_norm_first = True

    def forward(self, x):
        out = self.conv2(self.bn2(self.act(self.conv1(self.bn1(x)))))
        return self.act(out + self.shortcut(x))


class RedBitResNet(nn.Module):
    """RedBit's ResNet_cifar (main_cifar10.py builds ResNet_cifar(layers=L) with its default
    BasicBlock, so its ResNet-50 is the 6n+2 network with n = 8, not the bottleneck ResNet-50):
    3x3 conv, BN, ReLU, three stages of n blocks at 16/32/64 channels, 8x8 average pooling, a
    linear classifier without bias; conv weights drawn from N(0, 2 / (k^2 c_out)) (He, fan-out),
    the linear layer's and the norms' PyTorch's defaults."""

    def __init__(self, depth, block, num_classes, bn=True, in_channels=3, **_):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1, self.bn1 = redbit_conv(in_channels, 16, 3), redbit_norm(bn, 16)
        self.act = nn.ReLU()
        cin, stages = 16, []
        for i, width in enumerate((16, 32, 64)):
            blocks = [block(cin if j == 0 else width, width, 2 if (i > 0 and j == 0) else 1, bn)
                      for j in range(n)]
            stages.append(nn.Sequential(*blocks))
            cin = width
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(64, num_classes, bias=False)
        for m in self.modules():  # RedBit's init_model: N(0, sqrt(2 / n)), n = k * k * c_out
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.act(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


# ---------------------------------------------------------------------- VGG-16 (models/VGG.py)

class RedBitVGG(nn.Module):
    """RedBit's VGG('VGG16') for CIFAR-10: thirteen 3x3 convs without bias (conv1..conv13), each
    with BN and ReLU, 2x2 max-pools down to 1x1, then linear 512-4096, ReLU, 4096-4096, ReLU,
    4096-10 (fc1, fc2, fc), no bias, no BN; PyTorch's init. `form`: 'plain' (Baseline, QNN,
    DoReFa-Net), 'dropout' (TWN, TTQ: dropout 0.5 after each hidden ReLU) or 'xnor' (XNOR-Net:
    conv1-BN-ReLU, then each conv's input normalized: BN -> conv -> ReLU; no BN before fc1, fc2)."""

    def __init__(self, num_classes, image_size=32, bn=True, in_channels=3, form="plain", **_):
        super().__init__()
        cin, side, k = in_channels, image_size, 0
        for item in VGG16_PLAN:
            if item == "M":
                side //= 2
                continue
            k += 1
            self.add_module(f"conv{k}", redbit_conv(cin, item, 3))
            normed = cin if form == "xnor" and k > 1 else item  # XNOR-Net: a conv's input
            self.add_module(f"bn{k}", redbit_norm(bn, normed))
            cin = item
        self.fc1 = nn.Linear(cin * side * side, 4096, bias=False)
        self.fc2 = nn.Linear(4096, 4096, bias=False)
        self.fc = nn.Linear(4096, num_classes, bias=False)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(0.5) if form == "dropout" else nn.Identity()
        self.norm_first = form == "xnor"

    def forward(self, x):
        k = 0
        for item in VGG16_PLAN:
            if item == "M":
                x = F.max_pool2d(x, 2)
                continue
            k += 1
            layer, norm = getattr(self, f"conv{k}"), getattr(self, f"bn{k}")
            x = self.act(layer(norm(x)) if self.norm_first and k > 1 else norm(layer(x)))
        x = self.drop(self.act(self.fc1(x.flatten(1))))
        return self.fc(self.drop(self.act(self.fc2(x))))
