#!/usr/bin/env bash
# Li et al. 2017 (Training Quantized Nets: A Deeper Understanding), 120 runs: BinaryConnect against stochastic
# rounding (SR) on ResNet-56, WRN-56-2, VGG-9, VGG-BC x CIFAR-10/100 x seeds 42, 123, 456; SR at batch sizes
# 128, 256, 512 and 1024 (the paper's point: SR needs large batches), BC at 128. Adam as in the paper; the learning
# rate and its decay are our choice (the same for every batch size), and standard augmentation only.
source "$(dirname "$0")/lib.sh"

# Adam, lr 1e-3, no weight decay, 200 epochs, lr x0.1 at epochs 100 and 150
LI2017="--optimizer adam --lr 1e-3 --weight-decay 0 --epochs 200 --schedule step --milestones 100,150"
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
run python train.py --model wrn56_2 --dataset cifar100 --quant bc $LI2017 --seed 42
run python train.py --model wrn56_2 --dataset cifar100 --quant bc $LI2017 --seed 123
run python train.py --model wrn56_2 --dataset cifar100 --quant bc $LI2017 --seed 456
run python train.py --model vgg9 --dataset cifar100 --quant bc $LI2017 --seed 42
run python train.py --model vgg9 --dataset cifar100 --quant bc $LI2017 --seed 123
run python train.py --model vgg9 --dataset cifar100 --quant bc $LI2017 --seed 456
run python train.py --model vgg_bc --dataset cifar100 --quant bc $LI2017 --seed 42
run python train.py --model vgg_bc --dataset cifar100 --quant bc $LI2017 --seed 123
run python train.py --model vgg_bc --dataset cifar100 --quant bc $LI2017 --seed 456

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
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --seed 42
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --seed 123
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --seed 456
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 42
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 123
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 456
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 42
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 123
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 456
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 42
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 123
run python train.py --model wrn56_2 --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 456
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --seed 42
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --seed 123
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --seed 456
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 42
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 123
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 456
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 42
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 123
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 456
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 42
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 123
run python train.py --model vgg9 --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 456
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --seed 42
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --seed 123
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --seed 456
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 42
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 123
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --batch-size 256 --seed 456
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 42
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 123
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --batch-size 512 --seed 456
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 42
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 123
run python train.py --model vgg_bc --dataset cifar100 --quant sr $LI2017 --batch-size 1024 --seed 456
