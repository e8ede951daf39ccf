#!/usr/bin/env bash
# The quantization results table (shared as quantization-results-wiki.txt): QNN, DoReFa-Net,
# XNOR-Net, TWN and TTQ at the table's weight/activation bit widths (32/32, 8/8, 4/4, 2/32, 1/32,
# 2/2, 2/1, 1/2, 1/1; XNOR 1/32 and 1/1; TWN 32/32 and 2/32; TTQ 2/32) next to each method's own
# 32/32 network and the FP32 baseline, on LeNet-5 / MNIST, ResNet-20, ResNet-50 and VGG-16 /
# CIFAR-10 (90 runs; the ImageNet rows are in imagenet.sh). Every row carries its own optimizer and
# initial learning rate as the table gives them (a cell left empty there repeats the one above): SGD
# with momentum 0.9 (plain, not Nesterov) and weight decay 1e-4 for the baselines, 0 for every
# quantized row and Adam with weight decay 0; batch 128; the learning rate divided by 10 every 20
# epochs of 100 (LeNet-5) or every 60 of 200 (CIFAR-10); the reported accuracy is the best test
# accuracy over training (--report best).
# The table is the wiki of the RedBit framework (Santos et al. 2023), and every row runs its setup
# (docs/reproduction-lenet5-mnist.md, "RedBit's setup" and "RedBit's CIFAR-10 setup"). LeNet-5: its
# wide LeNet-5 (20-50-500-250) with each method's pooling, average for the baseline and DoReFa-Net
# (lenet5_wide_avg), max for QNN, TWN and TTQ (lenet5_wide_max), and XNOR-Net's BN -> binary layer
# -> ReLU (lenet5_wide_xnor); its MNIST augmentation, a rotation of up to 10 degrees, then a random
# crop of the image zero-padded by 4 (--augment rotate-crop). CIFAR-10 (models_redbit.py): its
# ResNet-20 and ResNet-50, both 6n+2 CIFAR ResNets of basic blocks at 16/32/64 channels (n = 3 and
# 8; not the bottleneck ResNet-50) with 1x1 conv shortcuts where the shape changes and a classifier
# without bias, post-activation for the baseline, QNN, TWN and TTQ (resnet20_redbit,
# resnet50_redbit), pre-activation for DoReFa-Net (*_preact) and BN -> binary conv -> ReLU for
# XNOR-Net (*_xnor); its VGG-16 with a 512-4096-4096-10 classifier without BN (vgg16_redbit), with
# dropout for TWN (vgg16_redbit_dropout) and XNOR-Net's BN -> binary conv -> ReLU
# (vgg16_redbit_xnor); its CIFAR-10 augmentation, a random crop of the image padded by its mirror
# image by 4, flipped horizontally half the time (--augment reflect-crop-flip).
# The first layer (the one that sees the image) and the last (the classifier), as each method's
# paper has them (RedBit's code keeps the same layers in full precision; its TTQ leaves them out of
# every optimizer, at their initial weights):
#   XNOR-Net: both in full precision (Rastegari et al. 2016, sec. 4.1: "avoid binarization at the
#     first and last layer"; the authors' code skips them) -> --keep conv1,fc
#   DoReFa-Net: both in full precision (Zhou et al. 2016, sec. 2.7; the authors' tensorpack code:
#     "don't binarize first and last layer") -> --keep conv1,fc; the code still clips the
#     classifier's input to [0, 1], ours does not
#   QNN: every layer's weights quantized, the first layer fed the image itself, 8-bit already (BNN
#     sec. 1.6 / QNN: only the first layer's input is not binary; the authors' code skips the input
#     binarization of a 3-channel conv): built into quant.QNN, no flag
#   TWN: every layer ternary (the paper names no exception; the authors' Caffe code ternarizes all)
#   TTQ: first conv and last fc in full precision (Zhu et al. 2017, sec. 5.2) -> --keep conv1,fc;
#     the authors' CIFAR ResNet code ternarizes the classifier, their AlexNet code does not: the
#     paper's words are followed
# Where the table states nothing else we keep our choices: no warm-up, mixup or label smoothing;
# one seed (42) per row, as the table reports one run per row.
# XNOR-Net "uses ReLU after convolutional layers": in its networks (lenet5_wide_xnor, *_redbit_xnor)
# the model's BN comes before each binary layer, whose own BN (quant.XNOR, with 1-bit activations)
# follows it, then sign, the binary layer (times K alpha) and ReLU, and no BN after. QNN rows with
# quantized activations have hardtanh where the others have ReLU (BNN/QNN networks have no ReLU,
# and sign after a ReLU is constant; the table names a ReLU only for XNOR-Net; RedBit's QNN
# networks do the same). The runs carry explicit tags
# (table_<method>_w<W>a<A>) because their recipes differ from other scripts' runs of the same model
# and method. tables.py prints them against the published numbers (published.csv).
source "$(dirname "$0")/lib.sh"

LENET5="--epochs 100 --milestones 20,40,60,80 --augment rotate-crop $RESULTS_TABLE"
CIFAR10="--epochs 200 --milestones 60,120,180 --augment reflect-crop-flip $RESULTS_TABLE"

# lenet5 / mnist: RedBit's wide LeNet-5, its pooling per method and its augmentation
run python train.py --model lenet5_wide_avg --dataset mnist --optimizer sgd --weight-decay 1e-4 --lr 0.01 $LENET5 --tag table_fp32 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant qnn --wbits 32 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_qnn_w32a32 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant qnn --wbits 8 --abits 8 --optimizer adam --weight-decay 0 --lr 0.01 $LENET5 --tag table_qnn_w8a8 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant qnn --wbits 4 --abits 4 --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_qnn_w4a4 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant qnn --wbits 2 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_qnn_w2a32 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant qnn --wbits 1 --abits 32 --optimizer adam --weight-decay 0 --lr 0.01 $LENET5 --tag table_qnn_w1a32 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant qnn --wbits 2 --abits 2 --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_qnn_w2a2 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant qnn --wbits 2 --abits 1 --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_qnn_w2a1 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant qnn --wbits 1 --abits 2 --optimizer adam --weight-decay 0 --lr 0.01 $LENET5 --tag table_qnn_w1a2 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant qnn --wbits 1 --abits 1 --optimizer adam --weight-decay 0 --lr 0.01 $LENET5 --tag table_qnn_w1a1 --seed 42
run python train.py --model lenet5_wide_avg --dataset mnist --quant dorefa --wbits 32 --abits 32 --optimizer adam --weight-decay 0 --lr 0.01 $LENET5 --tag table_dorefa_w32a32 --seed 42
run python train.py --model lenet5_wide_avg --dataset mnist --quant dorefa --wbits 8 --abits 8 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.1 $LENET5 --tag table_dorefa_w8a8 --seed 42
run python train.py --model lenet5_wide_avg --dataset mnist --quant dorefa --wbits 4 --abits 4 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_dorefa_w4a4 --seed 42
run python train.py --model lenet5_wide_avg --dataset mnist --quant dorefa --wbits 2 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_dorefa_w2a32 --seed 42
run python train.py --model lenet5_wide_avg --dataset mnist --quant dorefa --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $LENET5 --tag table_dorefa_w1a32 --seed 42
run python train.py --model lenet5_wide_avg --dataset mnist --quant dorefa --wbits 2 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_dorefa_w2a2 --seed 42
run python train.py --model lenet5_wide_avg --dataset mnist --quant dorefa --wbits 2 --abits 1 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.1 $LENET5 --tag table_dorefa_w2a1 --seed 42
run python train.py --model lenet5_wide_avg --dataset mnist --quant dorefa --wbits 1 --abits 2 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.1 $LENET5 --tag table_dorefa_w1a2 --seed 42
run python train.py --model lenet5_wide_avg --dataset mnist --quant dorefa --wbits 1 --abits 1 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.1 $LENET5 --tag table_dorefa_w1a1 --seed 42
run python train.py --model lenet5_wide_xnor --dataset mnist --quant xnor --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_xnor_w1a32 --seed 42
run python train.py --model lenet5_wide_xnor --dataset mnist --quant xnor --wbits 1 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_xnor_w1a1 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant twn --wbits 32 --optimizer adam --weight-decay 0 --lr 0.001 $LENET5 --tag table_twn_w32a32 --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant twn --optimizer sgd --weight-decay 0 --lr 0.1 $LENET5 --tag table_twn --seed 42
run python train.py --model lenet5_wide_max --dataset mnist --quant ttq --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $LENET5 --tag table_ttq --seed 42

# resnet20 / cifar10: RedBit's ResNet-20 per method and its augmentation
run python train.py --model resnet20_redbit --dataset cifar10 --optimizer sgd --weight-decay 1e-4 --lr 0.1 $CIFAR10 --tag table_fp32 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant qnn --wbits 32 --abits 32 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w32a32 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant qnn --wbits 8 --abits 8 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w8a8 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant qnn --wbits 4 --abits 4 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w4a4 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant qnn --wbits 2 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_qnn_w2a32 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant qnn --wbits 1 --abits 32 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w1a32 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant qnn --wbits 2 --abits 2 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w2a2 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant qnn --wbits 2 --abits 1 --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_qnn_w2a1 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant qnn --wbits 1 --abits 2 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w1a2 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant qnn --wbits 1 --abits 1 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w1a1 --seed 42
run python train.py --model resnet20_redbit_preact --dataset cifar10 --quant dorefa --wbits 32 --abits 32 --optimizer sgd --weight-decay 0 --lr 0.1 $CIFAR10 --tag table_dorefa_w32a32 --seed 42
run python train.py --model resnet20_redbit_preact --dataset cifar10 --quant dorefa --wbits 8 --abits 8 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w8a8 --seed 42
run python train.py --model resnet20_redbit_preact --dataset cifar10 --quant dorefa --wbits 4 --abits 4 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_dorefa_w4a4 --seed 42
run python train.py --model resnet20_redbit_preact --dataset cifar10 --quant dorefa --wbits 2 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_dorefa_w2a32 --seed 42
run python train.py --model resnet20_redbit_preact --dataset cifar10 --quant dorefa --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_dorefa_w1a32 --seed 42
run python train.py --model resnet20_redbit_preact --dataset cifar10 --quant dorefa --wbits 2 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w2a2 --seed 42
run python train.py --model resnet20_redbit_preact --dataset cifar10 --quant dorefa --wbits 2 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_dorefa_w2a1 --seed 42
run python train.py --model resnet20_redbit_preact --dataset cifar10 --quant dorefa --wbits 1 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w1a2 --seed 42
run python train.py --model resnet20_redbit_preact --dataset cifar10 --quant dorefa --wbits 1 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_dorefa_w1a1 --seed 42
run python train.py --model resnet20_redbit_xnor --dataset cifar10 --quant xnor --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_xnor_w1a32 --seed 42
run python train.py --model resnet20_redbit_xnor --dataset cifar10 --quant xnor --wbits 1 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_xnor_w1a1 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant twn --wbits 32 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_twn_w32a32 --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant twn --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_twn --seed 42
run python train.py --model resnet20_redbit --dataset cifar10 --quant ttq --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_ttq --seed 42

# resnet50 / cifar10 (RedBit's: 6n+2, n = 8); rows the table marks '-' (not run there, not run
# here): QNN 1/1
run python train.py --model resnet50_redbit --dataset cifar10 --optimizer sgd --weight-decay 1e-4 --lr 0.1 $CIFAR10 --tag table_fp32 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant qnn --wbits 32 --abits 32 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w32a32 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant qnn --wbits 8 --abits 8 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w8a8 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant qnn --wbits 4 --abits 4 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w4a4 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant qnn --wbits 2 --abits 32 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w2a32 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant qnn --wbits 1 --abits 32 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w1a32 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant qnn --wbits 2 --abits 2 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w2a2 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant qnn --wbits 2 --abits 1 --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_qnn_w2a1 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant qnn --wbits 1 --abits 2 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w1a2 --seed 42
run python train.py --model resnet50_redbit_preact --dataset cifar10 --quant dorefa --wbits 32 --abits 32 --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_dorefa_w32a32 --seed 42
run python train.py --model resnet50_redbit_preact --dataset cifar10 --quant dorefa --wbits 8 --abits 8 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w8a8 --seed 42
run python train.py --model resnet50_redbit_preact --dataset cifar10 --quant dorefa --wbits 4 --abits 4 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w4a4 --seed 42
run python train.py --model resnet50_redbit_preact --dataset cifar10 --quant dorefa --wbits 2 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w2a32 --seed 42
run python train.py --model resnet50_redbit_preact --dataset cifar10 --quant dorefa --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_dorefa_w1a32 --seed 42
run python train.py --model resnet50_redbit_preact --dataset cifar10 --quant dorefa --wbits 2 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w2a2 --seed 42
run python train.py --model resnet50_redbit_preact --dataset cifar10 --quant dorefa --wbits 2 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_dorefa_w2a1 --seed 42
run python train.py --model resnet50_redbit_preact --dataset cifar10 --quant dorefa --wbits 1 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w1a2 --seed 42
run python train.py --model resnet50_redbit_preact --dataset cifar10 --quant dorefa --wbits 1 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_dorefa_w1a1 --seed 42
run python train.py --model resnet50_redbit_xnor --dataset cifar10 --quant xnor --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_xnor_w1a32 --seed 42
run python train.py --model resnet50_redbit_xnor --dataset cifar10 --quant xnor --wbits 1 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_xnor_w1a1 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant twn --wbits 32 --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_twn_w32a32 --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant twn --optimizer adam --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_twn --seed 42
run python train.py --model resnet50_redbit --dataset cifar10 --quant ttq --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_ttq --seed 42

# vgg16 / cifar10; rows the table marks '-' (not run there, not run here):
# QNN 1/32, QNN 1/2, QNN 1/1, DoReFa 2/1, TTQ 2/32
run python train.py --model vgg16_redbit --dataset cifar10 --optimizer sgd --weight-decay 1e-4 --lr 0.01 $CIFAR10 --tag table_fp32 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant qnn --wbits 32 --abits 32 --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w32a32 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant qnn --wbits 8 --abits 8 --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w8a8 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant qnn --wbits 4 --abits 4 --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w4a4 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant qnn --wbits 2 --abits 32 --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w2a32 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant qnn --wbits 2 --abits 2 --optimizer sgd --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_qnn_w2a2 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant qnn --wbits 2 --abits 1 --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_qnn_w2a1 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant dorefa --wbits 32 --abits 32 --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w32a32 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant dorefa --wbits 8 --abits 8 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-5 $CIFAR10 --tag table_dorefa_w8a8 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant dorefa --wbits 4 --abits 4 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-5 $CIFAR10 --tag table_dorefa_w4a4 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant dorefa --wbits 2 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-4 $CIFAR10 --tag table_dorefa_w2a32 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant dorefa --wbits 1 --abits 32 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w1a32 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant dorefa --wbits 2 --abits 2 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 1e-5 $CIFAR10 --tag table_dorefa_w2a2 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant dorefa --wbits 1 --abits 2 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.1 $CIFAR10 --tag table_dorefa_w1a2 --seed 42
run python train.py --model vgg16_redbit --dataset cifar10 --quant dorefa --wbits 1 --abits 1 --keep conv1,fc --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_dorefa_w1a1 --seed 42
run python train.py --model vgg16_redbit_xnor --dataset cifar10 --quant xnor --wbits 1 --abits 32 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_xnor_w1a32 --seed 42
run python train.py --model vgg16_redbit_xnor --dataset cifar10 --quant xnor --wbits 1 --abits 1 --keep conv1,fc --optimizer adam --weight-decay 0 --lr 0.001 $CIFAR10 --tag table_xnor_w1a1 --seed 42
run python train.py --model vgg16_redbit_dropout --dataset cifar10 --quant twn --wbits 32 --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_twn_w32a32 --seed 42
run python train.py --model vgg16_redbit_dropout --dataset cifar10 --quant twn --optimizer sgd --weight-decay 0 --lr 0.01 $CIFAR10 --tag table_twn --seed 42
