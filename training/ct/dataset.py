"""Real-data loader: nnU-Net / Medical Segmentation Decathlon layout -> canonical LPS (z, y, x) arrays.

    DATA/imagesTr/<case>.nii.gz  (or <case>_0000.nii.gz, nnU-Net v1/v2 style)
    DATA/labelsTr/<case>.nii.gz

label_map maps OUR ids to the dataset's ids, e.g. "1:5,2:1,3:7" (liver=5, spleen=1, pancreas=7);
several source ids may be merged with '+', e.g. "3:7+8".
"""
import glob
import os

import nibabel as nib
import numpy as np


def parse_label_map(s):
    out = {}
    for part in s.split(","):
        ours, theirs = part.split(":")
        out[int(ours)] = [int(t) for t in theirs.split("+")]
    return out


def to_lps_zyx(nii):
    """Reorient a NIfTI image (closest axes, obliquity ignored) to LPS and return (array zyx, spacing zyx)."""
    ornt = nib.orientations.io_orientation(nii.affine)
    target = nib.orientations.axcodes2ornt(("L", "P", "S"))
    tr = nib.orientations.ornt_transform(ornt, target)
    data = nib.orientations.apply_orientation(np.asanyarray(nii.dataobj), tr)
    zooms = np.array(nii.header.get_zooms()[:3], dtype=float)
    spacing_xyz = np.empty(3)
    for src, (dst, _) in enumerate(tr):
        spacing_xyz[int(dst)] = zooms[src]
    return np.ascontiguousarray(np.transpose(data, (2, 1, 0))), tuple(float(s) for s in spacing_xyz[::-1])


def list_cases(data_dir):
    labs = sorted(glob.glob(os.path.join(data_dir, "labelsTr", "*.nii.gz")))
    cases = []
    for lp in labs:
        name = os.path.basename(lp)[:-len(".nii.gz")]
        ip = os.path.join(data_dir, "imagesTr", name + ".nii.gz")
        if not os.path.exists(ip):
            ip = os.path.join(data_dir, "imagesTr", name + "_0000.nii.gz")
        if os.path.exists(ip):
            cases.append((name, ip, lp))
    return cases


def load_case(img_path, lab_path, label_map):
    img, sp = to_lps_zyx(nib.load(img_path))
    lab_src, sp2 = to_lps_zyx(nib.load(lab_path))
    assert img.shape == lab_src.shape, (img.shape, lab_src.shape)
    lab = np.zeros(lab_src.shape, np.uint8)
    for ours, theirs in label_map.items():
        lab[np.isin(lab_src, theirs)] = ours
    return img.astype(np.float32), lab, sp
