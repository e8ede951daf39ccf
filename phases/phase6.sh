#!/usr/bin/env bash
# Phase 6: the TTQ comparison, 18 runs: ResNet-18/50 x CIFAR-10, CIFAR-100, Tiny-ImageNet x seeds
# 42, 123, 456, with the same recipe as the BitNet runs (trained from scratch, every conv and fc
# layer ternary).
source "$(dirname "$0")/lib.sh"

run python train.py --model resnet18 --dataset cifar10 --quant ttq --seed 42
run python train.py --model resnet18 --dataset cifar10 --quant ttq --seed 123
run python train.py --model resnet18 --dataset cifar10 --quant ttq --seed 456
run python train.py --model resnet18 --dataset cifar100 --quant ttq --seed 42
run python train.py --model resnet18 --dataset cifar100 --quant ttq --seed 123
run python train.py --model resnet18 --dataset cifar100 --quant ttq --seed 456
run python train.py --model resnet18 --dataset tiny-imagenet --quant ttq --seed 42
run python train.py --model resnet18 --dataset tiny-imagenet --quant ttq --seed 123
run python train.py --model resnet18 --dataset tiny-imagenet --quant ttq --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant ttq --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant ttq --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant ttq --seed 456
run python train.py --model resnet50 --dataset cifar100 --quant ttq --seed 42
run python train.py --model resnet50 --dataset cifar100 --quant ttq --seed 123
run python train.py --model resnet50 --dataset cifar100 --quant ttq --seed 456
run python train.py --model resnet50 --dataset tiny-imagenet --quant ttq --seed 42
run python train.py --model resnet50 --dataset tiny-imagenet --quant ttq --seed 123
run python train.py --model resnet50 --dataset tiny-imagenet --quant ttq --seed 456
