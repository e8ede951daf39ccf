#!/usr/bin/env bash
# ImageNet runs, kept apart because they need a cluster: the quantization results table's AlexNet-BN
# and ResNet-18 rows (47, the recipe of quant_table.sh: each row's optimizer, initial lr and, for
# ResNet-18, batch size; the lr divided by 10 every 30 epochs of 100; best validation accuracy), the
# TTQ paper's AlexNet and Li et al.'s ResNet-18 (BinaryConnect against stochastic rounding). Pass
# the data with EXTRA_FLAGS, e.g.
#   EXTRA_FLAGS="--data-dir /datasets/imagenet" bash run_all.sh --slurm imagenet
# Training images are RandomResizedCrop 224 and flipped (validation: resize 256, centre crop 224)
# for every run; the TTQ paper resizes to 256x256 and crops 224 at random, which
# datasets.load_imagenet does not offer.
source "$(dirname "$0")/lib.sh"

IMAGENET="--epochs 100 --milestones 30,60,90 $RESULTS_TABLE"

# alexnet / imagenet
run python train.py --model alexnet --dataset imagenet --optimizer sgd --weight-decay 1e-4 --lr 0.01 $IMAGENET --tag table_fp32 --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 32 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w32a32 --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 8 --abits 8 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w8a8 --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 4 --abits 4 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w4a4 --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 2 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w2a32 --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 1 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w1a32 --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 2 --abits 2 --optimizer adam --weight-decay 0 --lr 0.01 $IMAGENET --tag table_qnn_w2a2 --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 2 --abits 1 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w2a1 --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 1 --abits 2 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w1a2 --seed 42
run python train.py --model alexnet --dataset imagenet --quant qnn --wbits 1 --abits 1 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w1a1 --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 32 --abits 32 --optimizer adam --weight-decay 0 --lr 1e-4 $IMAGENET --tag table_dorefa_w32a32 --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 8 --abits 8 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-4 $IMAGENET --tag table_dorefa_w8a8 --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 4 --abits 4 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-4 $IMAGENET --tag table_dorefa_w4a4 --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 2 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-4 $IMAGENET --tag table_dorefa_w2a32 --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-4 $IMAGENET --tag table_dorefa_w1a32 --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 2 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_dorefa_w2a2 --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 2 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-5 $IMAGENET --tag table_dorefa_w2a1 --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 1 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-4 $IMAGENET --tag table_dorefa_w1a2 --seed 42
run python train.py --model alexnet --dataset imagenet --quant dorefa --wbits 1 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-5 $IMAGENET --tag table_dorefa_w1a1 --seed 42
run python train.py --model alexnet --dataset imagenet --quant xnor --wbits 1 --abits 32 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.001 $IMAGENET --tag table_xnor_w1a32 --seed 42
run python train.py --model alexnet --dataset imagenet --quant xnor --wbits 1 --abits 1 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.001 $IMAGENET --tag table_xnor_w1a1 --seed 42
run python train.py --model alexnet --dataset imagenet --quant twn --wbits 32 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_twn_w32a32 --seed 42
run python train.py --model alexnet --dataset imagenet --quant twn --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_twn --seed 42
run python train.py --model alexnet --dataset imagenet --quant ttq --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-5 $IMAGENET --tag table_ttq --seed 42

# resnet18 / imagenet; rows the table marks '-' (not run there, not run here): QNN 2/1
run python train.py --model resnet18 --dataset imagenet --optimizer sgd --weight-decay 1e-4 --lr 0.01 $IMAGENET --tag table_fp32 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant qnn --wbits 32 --abits 32 --optimizer sgd --weight-decay 0 --lr 0.1 $IMAGENET --tag table_qnn_w32a32 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant qnn --wbits 8 --abits 8 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w8a8 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant qnn --wbits 4 --abits 4 --optimizer sgd --weight-decay 0 --lr 0.1 $IMAGENET --tag table_qnn_w4a4 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant qnn --wbits 2 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w2a32 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant qnn --wbits 1 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w1a32 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant qnn --wbits 2 --abits 2 --optimizer adam --weight-decay 0 --lr 1e-4 $IMAGENET --tag table_qnn_w2a2 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant qnn --wbits 1 --abits 2 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w1a2 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant qnn --wbits 1 --abits 1 --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_qnn_w1a1 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 32 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 --batch-size 64 $IMAGENET --tag table_dorefa_w32a32 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 8 --abits 8 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 --batch-size 64 $IMAGENET --tag table_dorefa_w8a8 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 4 --abits 4 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 --batch-size 48 $IMAGENET --tag table_dorefa_w4a4 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 2 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 --batch-size 64 $IMAGENET --tag table_dorefa_w2a32 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 --batch-size 64 $IMAGENET --tag table_dorefa_w1a32 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 2 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $IMAGENET --tag table_dorefa_w2a2 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 2 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-5 $IMAGENET --tag table_dorefa_w2a1 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 1 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 --batch-size 64 $IMAGENET --tag table_dorefa_w1a2 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant dorefa --wbits 1 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-4 $IMAGENET --tag table_dorefa_w1a1 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant xnor --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 --batch-size 256 $IMAGENET --tag table_xnor_w1a32 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant xnor --wbits 1 --abits 1 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.001 --batch-size 256 $IMAGENET --tag table_xnor_w1a1 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant twn --wbits 32 --optimizer sgd --weight-decay 0 --lr 0.1 --batch-size 256 $IMAGENET --tag table_twn_w32a32 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant twn --optimizer sgd --weight-decay 0 --lr 0.1 --batch-size 256 $IMAGENET --tag table_twn --seed 42
run python train.py --model resnet18 --dataset imagenet --quant ttq --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-4 $IMAGENET --tag table_ttq --seed 42


# The TTQ paper's AlexNet (Zhu et al. 2017, sec. 5.2; its abstract: "trained from scratch"), as the
# authors' tw-imagenet-alexnet.py runs it (czhu95/ternarynet, its log alexnet-imagenet-scratch.log):
# from scratch, the first conv and the last fc in full precision, Adam at lr 1e-4 times 0.2 at
# epochs 56 and 64 of 100 (epochs of 10,000 steps of 128, about one pass over the 1.28M images),
# weight decay 5e-6, batch 128. Departures: Adam's epsilon is torch's 1e-8 (theirs 1e-5); weight
# decay reaches every weight (theirs: the fc layers' alone); `alexnet` is the BN AlexNet of the
# results table (theirs: a 12x12 first conv, grouped convs, no BN after the first). Reported with
# `--report ttq-avg`, the mean of the last 10 epochs: this project's reading of the paper's error,
# which the paper averages over all epochs.
run python train.py --model alexnet --dataset imagenet --quant ttq --keep conv1,fc --optimizer adam --lr 1e-4 --schedule step --milestones 56,64 --gamma 0.2 --weight-decay 5e-6 --epochs 100 --warmup-epochs 0 --mixup 0 --label-smoothing 0 --report ttq-avg --seed 42

# Li et al. 2017 on ResNet-18: BinaryConnect (batch 128) and stochastic rounding (batch 128 to
# 1024), Adam, lr 0.01 (the paper gives 0.01 for CIFAR and no other), no weight decay, 90 epochs
# with the lr x0.1 at epochs 30 and 60.
LI2017_IMAGENET="--optimizer adam --lr 0.01 --weight-decay 0"
LI2017_IMAGENET+=" --epochs 90 --schedule step --milestones 30,60"
LI2017_IMAGENET+=" --warmup-epochs 0 --mixup 0 --label-smoothing 0"
run python train.py --model resnet18 --dataset imagenet --quant bc $LI2017_IMAGENET --seed 42
run python train.py --model resnet18 --dataset imagenet --quant sr $LI2017_IMAGENET --seed 42
run python train.py --model resnet18 --dataset imagenet --quant sr $LI2017_IMAGENET --batch-size 256 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant sr $LI2017_IMAGENET --batch-size 512 --seed 42
run python train.py --model resnet18 --dataset imagenet --quant sr $LI2017_IMAGENET --batch-size 1024 --seed 42
