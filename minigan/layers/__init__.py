"""Hand-written layers, each with an explicit forward and backward."""
from .activations import LeakyReLU, ReLU, Scale, Sigmoid, Tanh, sigmoid
from .base import Module, Sequential, eval_mode, no_grad
from .branch import Concat, Identity, Residual
from .code import CategoricalCode, CodedDense
from .conv import Conv2d, ConvTranspose2d
from .dense import Dense
from .init import dcgan_init
from .instance_norm import InstanceNorm2d
from .labels import LabelPlanes
from .norm import BatchNorm1d, BatchNorm2d
from .pad import ReflectionPad2d
from .shape import Flatten, Reshape
from .spectral import SpectralNorm, apply_spectral_norm

__all__ = ["Module", "Sequential", "Dense", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d",
           "InstanceNorm2d", "ReflectionPad2d",
           "LeakyReLU", "ReLU", "Tanh", "Sigmoid", "Scale", "CategoricalCode", "CodedDense", "sigmoid", "Flatten",
           "Reshape", "LabelPlanes", "SpectralNorm", "Identity", "Residual", "Concat", "dcgan_init",
           "apply_spectral_norm", "no_grad", "eval_mode"]
