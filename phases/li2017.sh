#!/usr/bin/env bash
# Li et al. 2017 (Training Quantized Nets: A Deeper Understanding), 75 runs: BinaryConnect against
# stochastic rounding (SR) on ResNet-56, WRN-56-2, VGG-9 and VGG-BC on CIFAR-10 and ResNet-56 on
# CIFAR-100 (sec. 6: "We also train ResNet-56 on CIFAR-100"), seeds 42, 123, 456; SR at batch sizes
# 128, 256, 512 and 1024 (the paper's point: SR needs large batches), BC at 128. The paper's recipe
# (sec. 6): Adam, initial lr 0.01 divided by 10 at epochs 82 and 122, the schedule of He et al.
# (164 epochs), and their augmentation (random crop and flip). The paper states no weight decay,
# warm-up or epoch count beyond He et al.'s: none, and 164. Our choice: each channel normalized by
# its mean and std, where He et al. subtract the per-pixel mean. Its ResNet-18 / ImageNet runs (90
# epochs, decay at 30 and 60) are in imagenet.sh, which needs a cluster.
source "$(dirname "$0")/lib.sh"

# Adam, lr 0.01, no weight decay, 164 epochs, lr x0.1 at epochs 82 and 122
LI2017="--optimizer adam --lr 0.01 --weight-decay 0"
LI2017+=" --epochs 164 --schedule step --milestones 82,122"
LI2017+=" --warmup-epochs 0 --mixup 0 --label-smoothing 0"

# BinaryConnect at batch size 128
run python train.py --model resnet56 --dataset cifar10 --quant bc $LI2017 --seed 42
run python train.py --model resnet56 --dataset cifar10 --quant bc $LI2017 --seed 123
run python train.py --model resnet56 --dataset cifar10 --quant bc $LI2017 --seed 456
run python train.py --model wrn56_2 --dataset cifar10 --quant bc $LI2017 --seed 42
run python train.py --model wrn56_2 --dataset cifar10 --quant bc $LI2017 --seed 123
run python train.py --model wrn56_2 --dataset cifar10 --quant bc $LI2017 --seed 456
run python train.py --model vgg9 --dataset cifar10 --quant bc $LI2017 --seed 42
run python train.py --model vgg9 --dataset cifar10 --quant bc $LI2017 --seed 123
run python train.py --model vgg9 --dataset cifar10 --quant bc $LI2017 --seed 456
run python train.py --model vgg_bc --dataset cifar10 --quant bc $LI2017 --seed 42
run python train.py --model vgg_bc --dataset cifar10 --quant bc $LI2017 --seed 123
run python train.py --model vgg_bc --dataset cifar10 --quant bc $LI2017 --seed 456
run python train.py --model resnet56 --dataset cifar100 --quant bc $LI2017 --seed 42
run python train.py --model resnet56 --dataset cifar100 --quant bc $LI2017 --seed 123
run python train.py --model resnet56 --dataset cifar100 --quant bc $LI2017 --seed 456

# stochastic rounding at batch sizes 128 to 1024
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --seed 42
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --seed 123
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --seed 456
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 42
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 123
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 456
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 42
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 123
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 456
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 42
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 123
run python train.py --model resnet56 --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 456
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --seed 42
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --seed 123
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --seed 456
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 42
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 123
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 456
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 42
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 123
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 456
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 42
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 123
run python train.py --model wrn56_2 --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 456
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --seed 42
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --seed 123
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --seed 456
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 42
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 123
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 456
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 42
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 123
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 456
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 42
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 123
run python train.py --model vgg9 --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 456
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --seed 42
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --seed 123
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --seed 456
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 42
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 123
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --batch-size 256 --seed 456
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 42
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 123
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --batch-size 512 --seed 456
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 42
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 123
run python train.py --model vgg_bc --dataset cifar10 --quant sr $LI2017 --batch-size 1024 --seed 456
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --seed 42
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --seed 123
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --seed 456
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 42
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 123
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 456
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 42
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 123
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 456
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 42
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 123
run python train.py --model resnet56 --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 456
