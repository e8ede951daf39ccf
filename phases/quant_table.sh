#!/usr/bin/env bash
# The quantizer table, 192 runs: FP32, QNN, DoReFa-Net, XNOR-Net, TWN and TTQ at the table's weight/activation bit
# widths (32/32, 8/8, 4/4, 2/32, 1/32, 2/2, 2/1, 1/2, 1/1), all from scratch with every layer quantized, on LeNet-5 /
# MNIST (100 epochs), ResNet-20 / CIFAR-10 (the TTQ paper's schedule, so FP32 is ttq_paper.sh's run) and ResNet-50,
# VGG-16 / CIFAR-10 (train.py's defaults, so FP32 and TTQ ResNet-50 are phase 1's and phase 6's runs); seeds 42,
# 123, 456. Runs listed by two scripts are trained once.
source "$(dirname "$0")/lib.sh"

# lenet5 / mnist
run python train.py --model lenet5 --dataset mnist --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 8 --abits 8 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 8 --abits 8 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 8 --abits 8 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 4 --abits 4 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 4 --abits 4 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 4 --abits 4 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 2 --abits 2 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 2 --abits 2 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 2 --abits 2 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 1 --abits 1 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 1 --abits 1 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant qnn --wbits 1 --abits 1 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 8 --abits 8 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 8 --abits 8 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 8 --abits 8 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 4 --abits 4 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 4 --abits 4 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 4 --abits 4 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 2 --abits 2 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 2 --abits 2 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 2 --abits 2 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 2 --abits 1 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 2 --abits 1 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 2 --abits 1 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 1 --abits 2 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 1 --abits 2 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 1 --abits 2 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 1 --abits 32 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 1 --abits 32 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 1 --abits 32 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 1 --abits 1 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 1 --abits 1 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant dorefa --wbits 1 --abits 1 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant xnor --wbits 1 --abits 32 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant xnor --wbits 1 --abits 32 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant xnor --wbits 1 --abits 32 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant xnor --wbits 1 --abits 1 --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant xnor --wbits 1 --abits 1 --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant xnor --wbits 1 --abits 1 --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant twn --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant twn --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant twn --epochs 100 --seed 456
run python train.py --model lenet5 --dataset mnist --quant ttq --epochs 100 --seed 42
run python train.py --model lenet5 --dataset mnist --quant ttq --epochs 100 --seed 123
run python train.py --model lenet5 --dataset mnist --quant ttq --epochs 100 --seed 456

# resnet20 / cifar10
run python train.py --model resnet20 --dataset cifar10 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 8 --abits 8 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 8 --abits 8 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 8 --abits 8 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 4 --abits 4 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 4 --abits 4 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 4 --abits 4 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 2 --abits 2 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 2 --abits 2 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 2 --abits 2 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 1 --abits 1 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 1 --abits 1 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant qnn --wbits 1 --abits 1 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 8 --abits 8 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 8 --abits 8 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 8 --abits 8 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 4 --abits 4 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 4 --abits 4 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 4 --abits 4 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 2 --abits 2 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 2 --abits 2 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 2 --abits 2 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 2 --abits 1 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 2 --abits 1 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 2 --abits 1 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 1 --abits 2 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 1 --abits 2 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 1 --abits 2 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 1 --abits 32 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 1 --abits 32 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 1 --abits 32 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 1 --abits 1 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 1 --abits 1 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant dorefa --wbits 1 --abits 1 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant xnor --wbits 1 --abits 32 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant xnor --wbits 1 --abits 32 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant xnor --wbits 1 --abits 32 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant xnor --wbits 1 --abits 1 $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant xnor --wbits 1 --abits 1 $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant xnor --wbits 1 --abits 1 $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant twn $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant twn $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant twn $TTQ_SCHEDULE --seed 456
run python train.py --model resnet20 --dataset cifar10 --quant ttq $TTQ_SCHEDULE --seed 42
run python train.py --model resnet20 --dataset cifar10 --quant ttq $TTQ_SCHEDULE --seed 123
run python train.py --model resnet20 --dataset cifar10 --quant ttq $TTQ_SCHEDULE --seed 456

# resnet50 / cifar10
run python train.py --model resnet50 --dataset cifar10 --seed 42
run python train.py --model resnet50 --dataset cifar10 --seed 123
run python train.py --model resnet50 --dataset cifar10 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 8 --abits 8 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 8 --abits 8 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 8 --abits 8 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 4 --abits 4 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 4 --abits 4 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 4 --abits 4 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 2 --abits 2 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 2 --abits 2 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 2 --abits 2 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 1 --abits 1 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 1 --abits 1 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant qnn --wbits 1 --abits 1 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 8 --abits 8 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 8 --abits 8 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 8 --abits 8 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 4 --abits 4 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 4 --abits 4 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 4 --abits 4 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 2 --abits 2 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 2 --abits 2 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 2 --abits 2 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 2 --abits 1 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 2 --abits 1 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 2 --abits 1 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 1 --abits 2 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 1 --abits 2 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 1 --abits 2 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 1 --abits 32 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 1 --abits 32 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 1 --abits 32 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 1 --abits 1 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 1 --abits 1 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant dorefa --wbits 1 --abits 1 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant xnor --wbits 1 --abits 32 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant xnor --wbits 1 --abits 32 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant xnor --wbits 1 --abits 32 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant xnor --wbits 1 --abits 1 --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant xnor --wbits 1 --abits 1 --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant xnor --wbits 1 --abits 1 --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant twn --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant twn --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant twn --seed 456
run python train.py --model resnet50 --dataset cifar10 --quant ttq --seed 42
run python train.py --model resnet50 --dataset cifar10 --quant ttq --seed 123
run python train.py --model resnet50 --dataset cifar10 --quant ttq --seed 456

# vgg16 / cifar10
run python train.py --model vgg16 --dataset cifar10 --seed 42
run python train.py --model vgg16 --dataset cifar10 --seed 123
run python train.py --model vgg16 --dataset cifar10 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 8 --abits 8 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 8 --abits 8 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 8 --abits 8 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 4 --abits 4 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 4 --abits 4 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 4 --abits 4 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 2 --abits 2 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 2 --abits 2 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 2 --abits 2 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 1 --abits 1 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 1 --abits 1 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant qnn --wbits 1 --abits 1 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 8 --abits 8 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 8 --abits 8 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 8 --abits 8 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 4 --abits 4 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 4 --abits 4 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 4 --abits 4 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 2 --abits 2 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 2 --abits 2 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 2 --abits 2 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 2 --abits 1 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 2 --abits 1 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 2 --abits 1 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 1 --abits 2 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 1 --abits 2 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 1 --abits 2 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 1 --abits 32 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 1 --abits 32 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 1 --abits 32 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 1 --abits 1 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 1 --abits 1 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant dorefa --wbits 1 --abits 1 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant xnor --wbits 1 --abits 32 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant xnor --wbits 1 --abits 32 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant xnor --wbits 1 --abits 32 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant xnor --wbits 1 --abits 1 --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant xnor --wbits 1 --abits 1 --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant xnor --wbits 1 --abits 1 --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant twn --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant twn --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant twn --seed 456
run python train.py --model vgg16 --dataset cifar10 --quant ttq --seed 42
run python train.py --model vgg16 --dataset cifar10 --quant ttq --seed 123
run python train.py --model vgg16 --dataset cifar10 --quant ttq --seed 456
