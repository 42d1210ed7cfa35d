"""The OBELISK-Net paper's all-convolutional 3D U-Net ("allconvunet", TCIA multi-organ weights).

Rebuilt from the state dict's names and shapes (../shared/data/pretrained/obelisk-tcia, MIT):
3x3x3 convolutions with bias, BatchNorm, leaky ReLU 0.1; encoder conv0 1->5 at full size, then
five stride-2 stages of 14, 28, 42, 56, 70 channels; decoder upsamples trilinearly to each skip's
size (align_corners=False), concatenates, conv+BN+leaky ReLU; a last 9->9 conv without norm.

The reference forward pass calls F.dropout3d with its default training=True, so dropout stays on
at inference there; it is left out here (evaluation and export are deterministic).

Input layout of the original: one volume of raw Hounsfield units, tensor axes (x, y, z) with x
towards the patient's left, y towards anterior, z towards the feet. `forward_lps` takes our
canonical LPS array order (z, y, x) with x -> left, y -> posterior, z -> superior and converts.
Output classes: 0 background, 1 spleen, 2 pancreas, 3 left kidney, 4 gallbladder, 5 oesophagus,
6 liver, 7 stomach, 8 duodenum.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

OBELISK_CLASSES = ["background", "spleen", "pancreas", "left kidney", "gallbladder", "oesophagus", "liver", "stomach", "duodenum"]


def _cbr(cin, cout, stride=1):
    return nn.Conv3d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm3d(cout)


class AllConvUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0, self.batch0 = _cbr(1, 5)
        self.conv1, self.batch1 = _cbr(5, 14, 2)
        self.conv11, self.batch11 = _cbr(14, 14)
        self.conv2, self.batch2 = _cbr(14, 28, 2)
        self.conv22, self.batch22 = _cbr(28, 28)
        self.conv3, self.batch3 = _cbr(28, 42, 2)
        self.conv33, self.batch33 = _cbr(42, 42)
        self.conv4, self.batch4 = _cbr(42, 56, 2)
        self.conv44, self.batch44 = _cbr(56, 56)
        self.conv5, self.batch5 = _cbr(56, 70, 2)
        self.conv55, self.batch55 = _cbr(70, 70)
        self.conv6dU, self.batch6dU = _cbr(126, 56)
        self.conv6cU, self.batch6cU = _cbr(98, 42)
        self.conv6bU, self.batch6bU = _cbr(70, 28)
        self.conv6U, self.batch6U = _cbr(42, 14)
        self.conv7U, self.batch7U = _cbr(19, 9)
        self.conv77U = nn.Conv3d(9, 9, 3, padding=1)

    @staticmethod
    def _act(bn, conv, x):
        return F.leaky_relu(bn(conv(x)), 0.1)

    def forward(self, x):
        a = self._act
        x0 = a(self.batch0, self.conv0, x)
        x1 = a(self.batch11, self.conv11, a(self.batch1, self.conv1, x0))
        x2 = a(self.batch22, self.conv22, a(self.batch2, self.conv2, x1))
        x3 = a(self.batch33, self.conv33, a(self.batch3, self.conv3, x2))
        x4 = a(self.batch44, self.conv44, a(self.batch4, self.conv4, x3))
        x5 = a(self.batch55, self.conv55, a(self.batch5, self.conv5, x4))
        y = x5
        for skip, conv, bn in ((x4, self.conv6dU, self.batch6dU), (x3, self.conv6cU, self.batch6cU),
                               (x2, self.conv6bU, self.batch6bU), (x1, self.conv6U, self.batch6U),
                               (x0, self.conv7U, self.batch7U)):
            y = F.interpolate(y, size=skip.shape[2:], mode="trilinear", align_corners=False)
            y = a(bn, conv, torch.cat([y, skip], 1))
        return self.conv77U(y)

    def forward_lps(self, x_lps):
        """x_lps: [B, 1, z, y, x] in canonical LPS order -> logits [B, 9, z, y, x] in the same order."""
        x = x_lps.permute(0, 1, 4, 3, 2).flip(3, 4)  # (x, y->anterior, z->feet)
        out = self.forward(x)
        return out.flip(3, 4).permute(0, 1, 4, 3, 2)


def load_obelisk(path):
    net = AllConvUNet()
    net.load_state_dict(torch.load(path, map_location="cpu"))
    return net.eval()
