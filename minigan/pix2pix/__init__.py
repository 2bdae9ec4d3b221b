"""A conditional restoration GAN, the pix2pix recipe (Isola et al. 2017), for 8x8 images.

``models``: the U-Net generator (encoder-decoder with skips, residual blocks at the
bottleneck) and the patch discriminator judging (input, output) pairs; ``trainer``: the
two-phase step, adversarial loss plus lambda * L1; ``tasks``: the inputs of the two
restoration tasks (bottom-half inpainting, 4x4 -> 8x8 super-resolution) and the
upsampling baselines.
"""
from .models import patch_discriminator, receptive_window, unet_generator
from .tasks import (bilinear_upsample, downsample, inpainting_inputs, masked_mse,
                    nearest_upsample, paste_known, super_resolution_inputs)
from .trainer import Pix2Pix, generator_output_grad, l1_loss, pair_sampler, translate

__all__ = ["unet_generator", "patch_discriminator", "receptive_window", "Pix2Pix", "generator_output_grad",
           "l1_loss", "pair_sampler", "translate", "inpainting_inputs", "paste_known", "masked_mse", "downsample",
           "nearest_upsample", "bilinear_upsample", "super_resolution_inputs"]
