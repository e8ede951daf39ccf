#!/usr/bin/env bash
# Phase 1: FP32 baselines, 22 runs. ResNet-18/50 x CIFAR-10, CIFAR-100, Tiny-ImageNet x seeds 42,
# 123, 456 (18), and the stem ablation: FP32 with the ImageNet stem, ResNet-18/50 x CIFAR-10/100,
# seed 42 (4). Every run uses train.py's defaults: 300 epochs, SGD, cosine, 5 warm-up epochs,
# mixup/label smoothing on CIFAR-10 and Tiny-ImageNet. The study names no learning rate, weight
# decay, momentum, batch or reported epoch: train.py's defaults (lr 0.1, weight decay 5e-4, Nesterov
# momentum 0.9, batch 128, the final epoch's accuracy) are our choices, in every phase. The seed-42
# runs are the teachers of the KD runs of phases 2 and 4: their final weights (fp32_s42/final.pt,
# the last epoch), never the test-selected best.pt. The study reports the CIFAR stem recovering
# 6-17 points on CIFAR-10/100: the published_bitnet table (published.py) compares the stem ablation
# with it (stem_gain).
source "$(dirname "$0")/lib.sh"

# seed 42: the KD teachers of phases 2 and 4
run python train.py --model resnet18 --dataset cifar10 --seed 42
run python train.py --model resnet18 --dataset cifar100 --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --seed 42
run python train.py --model resnet50 --dataset cifar10 --seed 42
run python train.py --model resnet50 --dataset cifar100 --seed 42
run python train.py --model resnet50 --dataset tiny-imagenet --seed 42

# seed 123
run python train.py --model resnet18 --dataset cifar10 --seed 123
run python train.py --model resnet18 --dataset cifar100 --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --seed 123
run python train.py --model resnet50 --dataset cifar10 --seed 123
run python train.py --model resnet50 --dataset cifar100 --seed 123
run python train.py --model resnet50 --dataset tiny-imagenet --seed 123

# seed 456
run python train.py --model resnet18 --dataset cifar10 --seed 456
run python train.py --model resnet18 --dataset cifar100 --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --seed 456
run python train.py --model resnet50 --dataset cifar10 --seed 456
run python train.py --model resnet50 --dataset cifar100 --seed 456
run python train.py --model resnet50 --dataset tiny-imagenet --seed 456

# stem ablation: the ImageNet stem (7x7/2 conv + max-pool) on 32 px images
run python train.py --model resnet18 --dataset cifar10 --stem imagenet --seed 42
run python train.py --model resnet18 --dataset cifar100 --stem imagenet --seed 42
run python train.py --model resnet50 --dataset cifar10 --stem imagenet --seed 42
run python train.py --model resnet50 --dataset cifar100 --stem imagenet --seed 42
