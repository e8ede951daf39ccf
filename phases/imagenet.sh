#!/usr/bin/env bash
# ImageNet runs, 14, kept apart because they need a cluster: AlexNet-BN and ResNet-18 (ImageNet stem) as FP32, TTQ,
# TWN, XNOR-Net (1/32 and 1/1), DoReFa-Net 1/2 and QNN 1/1, seed 42. Pass the data with EXTRA_FLAGS, e.g.
#   EXTRA_FLAGS="--data-dir /datasets/imagenet" bash run_all.sh --slurm imagenet
source "$(dirname "$0")/lib.sh"

# the standard ImageNet schedule: 90 epochs, lr 0.1 (batch 256) x0.1 at epochs 30 and 60, weight decay 1e-4
IMAGENET="--epochs 90 --schedule step --milestones 30,60 --weight-decay 1e-4 --warmup-epochs 0 --batch-size 256"

# alexnet
run python train.py --model alexnet --dataset imagenet $IMAGENET --seed 42
run python train.py --model alexnet --dataset imagenet --quant ttq $IMAGENET --seed 42
run python train.py --model alexnet --dataset imagenet --quant twn $IMAGENET --seed 42
run python train.py --model alexnet --dataset imagenet --quant xnor --wbits 1 --abits 32 $IMAGENET --seed 42
run python train.py --model alexnet --dataset imagenet --quant xnor --wbits 1 --abits 1 $IMAGENET --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 1 --abits 2 $IMAGENET --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 1 --abits 1 $IMAGENET --seed 42

# resnet18
run python train.py --model resnet18 --dataset imagenet $IMAGENET --seed 42
run python train.py --model resnet18 --dataset imagenet --quant ttq $IMAGENET --seed 42
run python train.py --model resnet18 --dataset imagenet --quant twn $IMAGENET --seed 42
run python train.py --model resnet18 --dataset imagenet --quant xnor --wbits 1 --abits 32 $IMAGENET --seed 42
run python train.py --model resnet18 --dataset imagenet --quant xnor --wbits 1 --abits 1 $IMAGENET --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 1 --abits 2 $IMAGENET --seed 42
run python train.py --model resnet18 --dataset imagenet --quant qnn --wbits 1 --abits 1 $IMAGENET --seed 42
