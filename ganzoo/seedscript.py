"""The ACGAN seed's training script, written the way PyTorch-GAN's ``acgan.py`` trains, to time it beside ganzoo.

Everything the seed does is kept, bugs included, since the point is the speed of the code users start from:
its own G and D classes (G multiplies the noise by a label embedding; ``BatchNorm2d(c, 0.8)``, which sets eps;
D ends in ``Sigmoid`` and ``Softmax``), ``BCELoss`` after the sigmoid and ``CrossEntropyLoss`` after the softmax,
noise and labels drawn with numpy and copied to the device every step, a torchvision ``DataLoader`` with
per-image PIL transforms, G's step before D's with D's weight gradients computed in G's step, the accuracy
computed on the host every step, and both losses read with ``.item()`` for the progress print. ganzoo
itself never trains this way (``ganzoo bench --seed-script`` times it).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn


class SeedGenerator(nn.Module):
    def __init__(self, latent_dim: int, num_classes: int, channels: int, image_size: int):
        super().__init__()
        self.label_emb = nn.Embedding(num_classes, latent_dim)
        self.init_size = image_size // 4
        self.l1 = nn.Sequential(nn.Linear(latent_dim, 128 * self.init_size**2))
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 128, 3, stride=1, padding=1),
            nn.BatchNorm2d(128, 0.8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, stride=1, padding=1),
            nn.BatchNorm2d(64, 0.8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, channels, 3, stride=1, padding=1),
            nn.Tanh(),
        )

    def forward(self, noise, labels):
        out = self.l1(torch.mul(self.label_emb(labels), noise))
        return self.conv_blocks(out.view(out.shape[0], 128, self.init_size, self.init_size))


class SeedDiscriminator(nn.Module):
    def __init__(self, num_classes: int, channels: int, image_size: int):
        super().__init__()

        def block(inputs, outputs, bn=True):
            layers = [nn.Conv2d(inputs, outputs, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25)]
            return layers + ([nn.BatchNorm2d(outputs, 0.8)] if bn else [])

        self.conv_blocks = nn.Sequential(
            *block(channels, 16, bn=False), *block(16, 32), *block(32, 64), *block(64, 128)
        )
        side = image_size // 2**4
        self.adv_layer = nn.Sequential(nn.Linear(128 * side**2, 1), nn.Sigmoid())
        self.aux_layer = nn.Sequential(nn.Linear(128 * side**2, num_classes), nn.Softmax(dim=1))

    def forward(self, images):
        out = self.conv_blocks(images).view(images.shape[0], -1)
        return self.adv_layer(out), self.aux_layer(out)


def weights_init_normal(module: nn.Module) -> None:
    if module.__class__.__name__.find("Conv") != -1:
        torch.nn.init.normal_(module.weight.data, 0.0, 0.02)
    elif module.__class__.__name__.find("BatchNorm2d") != -1:
        torch.nn.init.normal_(module.weight.data, 1.0, 0.02)
        torch.nn.init.constant_(module.bias.data, 0.0)


def time_seed_script(
    loader,
    device: torch.device,
    steps: int,
    warmup: int,
    latent_dim: int = 100,
    num_classes: int = 10,
    image_size: int = 32,
    lr: float = 2e-4,
) -> float:
    """Images per second of the seed's loop over ``steps`` batches of ``loader`` after ``warmup`` batches."""
    generator = SeedGenerator(latent_dim, num_classes, 1, image_size).to(device)
    discriminator = SeedDiscriminator(num_classes, 1, image_size).to(device)
    generator.apply(weights_init_normal)
    discriminator.apply(weights_init_normal)
    adversarial_loss, auxiliary_loss = nn.BCELoss(), nn.CrossEntropyLoss()
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    done, started, images = 0, 0.0, 0
    while done < warmup + steps:
        for real_imgs, labels in loader:
            if done == warmup:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                started, images = time.perf_counter(), 0
            batch_size = real_imgs.shape[0]
            valid = torch.ones(batch_size, 1, device=device)
            fake = torch.zeros(batch_size, 1, device=device)
            real_imgs, labels = real_imgs.to(device), labels.to(device)

            optimizer_g.zero_grad()
            z = torch.tensor(np.random.normal(0, 1, (batch_size, latent_dim)), dtype=torch.float32, device=device)
            gen_labels = torch.tensor(np.random.randint(0, num_classes, batch_size), dtype=torch.long, device=device)
            gen_imgs = generator(z, gen_labels)
            validity, pred_label = discriminator(gen_imgs)
            g_loss = 0.5 * (adversarial_loss(validity, valid) + auxiliary_loss(pred_label, gen_labels))
            g_loss.backward()
            optimizer_g.step()

            optimizer_d.zero_grad()
            real_pred, real_aux = discriminator(real_imgs)
            d_real_loss = (adversarial_loss(real_pred, valid) + auxiliary_loss(real_aux, labels)) / 2
            fake_pred, fake_aux = discriminator(gen_imgs.detach())
            d_fake_loss = (adversarial_loss(fake_pred, fake) + auxiliary_loss(fake_aux, gen_labels)) / 2
            d_loss = (d_real_loss + d_fake_loss) / 2
            predictions = np.concatenate([real_aux.data.cpu().numpy(), fake_aux.data.cpu().numpy()], axis=0)
            targets = np.concatenate([labels.data.cpu().numpy(), gen_labels.data.cpu().numpy()], axis=0)
            np.mean(np.argmax(predictions, axis=1) == targets)  # the seed prints this accuracy every step
            d_loss.backward()
            optimizer_d.step()
            d_loss.item(), g_loss.item()  # and both losses

            done, images = done + 1, images + batch_size
            if done == warmup + steps:
                break
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return images / (time.perf_counter() - started)
