"""Synthetic abdominal CT phantoms with liver / spleen / pancreas labels.

Everything is defined in physical millimetres in the canonical LPS frame
(x -> patient's Left, y -> Posterior, z -> Superior) and rasterised at any
requested voxel grid.  Arrays are indexed (z, y, x) like the TypeScript server.

    ph = Phantom(seed)                    # anatomy + acquisition parameters
    case = ph.render((3.0, 0.8, 0.8))     # spacing (z, y, x) in mm
    case["image"]  int16 HU, case["label"] uint8 (0 bg, 1 liver, 2 spleen, 3 pancreas)
    case["spacing"] (sz, sy, sx), case["origin"] (oz, oy, ox) world LPS mm of voxel 0

The same seed gives the same anatomy, field of view and noise level at every
spacing, so one phantom can be rendered at the stage-1 and the stage-2 grid.

Splits (fixed seeds): train 0..9999, validation 10000..19999, test 20000..29999
(fixtures use 30000+).
"""
import math

import numpy as np
from scipy import ndimage

LABELS = {1: "liver", 2: "spleen", 3: "pancreas"}
SPLIT_SEED_BASE = {"train": 0, "val": 10000, "test": 20000, "fixture": 30000}


def split_seeds(split, n):
    b = SPLIT_SEED_BASE[split]
    return list(range(b, b + n))


def _rot(ax, ay, az):
    """Rotation matrix (x, y, z order), angles in radians."""
    cx, sx, cy, sy, cz, sz = (math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay),
                              math.cos(az), math.sin(az))
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


class _Waves:
    """Smooth random field: sum of a few random plane waves (resolution independent)."""

    def __init__(self, rng, n, lam_lo, lam_hi, amp):
        d = rng.normal(size=(n, 3))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        lam = rng.uniform(lam_lo, lam_hi, size=n)
        self.k = (d * (2 * np.pi / lam)[:, None]).astype(np.float32)
        self.ph = rng.uniform(0, 2 * np.pi, size=n).astype(np.float32)
        self.a = (amp / math.sqrt(n / 2.0)) * rng.uniform(0.5, 1.5, size=n).astype(np.float32)

    def __call__(self, x, y, z):
        out = np.zeros(np.broadcast(x, y, z).shape, np.float32)
        for k, ph, a in zip(self.k, self.ph, self.a):
            out += a * np.sin(k[0] * x + k[1] * y + k[2] * z + ph)
        return out


class _Ellipsoid:
    def __init__(self, c, r, rot=(0.0, 0.0, 0.0)):
        self.c = np.asarray(c, np.float32)
        self.r = np.asarray(r, np.float32)
        self.R = _rot(*rot).astype(np.float32)  # local -> anatomy

    def q(self, x, y, z):
        """Normalised radius^2 (inside < 1)."""
        dx, dy, dz = x - self.c[0], y - self.c[1], z - self.c[2]
        Rt = self.R.T
        lx = Rt[0, 0] * dx + Rt[0, 1] * dy + Rt[0, 2] * dz
        ly = Rt[1, 0] * dx + Rt[1, 1] * dy + Rt[1, 2] * dz
        lz = Rt[2, 0] * dx + Rt[2, 1] * dy + Rt[2, 2] * dz
        return (lx / self.r[0]) ** 2 + (ly / self.r[1]) ** 2 + (lz / self.r[2]) ** 2


class _Tube:
    """Tapered tube around a polyline: inside where dist < radius."""

    def __init__(self, pts, radii):
        self.p = np.asarray(pts, np.float32)
        self.r = np.asarray(radii, np.float32)

    def sd(self, x, y, z):
        """Signed distance-like value (mm): < 0 inside."""
        best = None
        for i in range(len(self.p) - 1):
            a, b = self.p[i], self.p[i + 1]
            ab = b - a
            L2 = float(ab @ ab) + 1e-6
            t = ((x - a[0]) * ab[0] + (y - a[1]) * ab[1] + (z - a[2]) * ab[2]) / L2
            t = np.clip(t, 0.0, 1.0)
            d = np.sqrt((x - a[0] - t * ab[0]) ** 2 + (y - a[1] - t * ab[1]) ** 2
                        + (z - a[2] - t * ab[2]) ** 2)
            v = d - (self.r[i] + t * (self.r[i + 1] - self.r[i]))
            best = v if best is None else np.minimum(best, v)
        return best


def _se(x, y, ax, ay, n_post=2.6):
    """Body-outline super-ellipse: anterior half elliptic, posterior half flatter."""
    n = np.where(y > 0, n_post, 2.0).astype(np.float32)
    return np.abs(x / ax) ** n + np.abs(y / ay) ** n


class Phantom:
    def __init__(self, seed):
        self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        U = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
        self.U = U

        # ---- body ------------------------------------------------------------
        self.cav_ax, self.cav_ay = U(110, 155), U(80, 112)      # abdominal cavity
        self.wall = U(6, 15)                                    # abdominal wall muscle
        fat = U(6, 50)
        self.body_ax = self.cav_ax + self.wall + fat * U(0.8, 1.3)
        self.body_ay = self.cav_ay + self.wall + fat
        k = math.sqrt(self.cav_ax * self.cav_ay / (130.0 * 95.0)) * U(0.9, 1.12)
        self.k = k
        ax, ay = self.cav_ax, self.cav_ay

        # ---- spine -----------------------------------------------------------
        self.rv = U(16, 23) * (0.5 + 0.5 * k)
        self.spine_y = ay * U(0.5, 0.62)
        self.vert_period = U(26, 34)
        self.vert_phase = U(0, 40)
        sy = self.spine_y
        aorta_y = sy - self.rv - U(8, 16)
        self.aorta = _Tube([(U(8, 22), aorta_y, -200), (U(5, 20), aorta_y + U(-5, 5), 60),
                            (U(0, 10), aorta_y + U(0, 10), 300)], [U(9, 13)] * 3)
        ivc_x, ivc_y = -U(18, 32), sy - self.rv - U(5, 14)
        self.ivc = _Tube([(ivc_x, ivc_y, -200), (ivc_x - U(0, 8), ivc_y - U(0, 10), 60),
                          (ivc_x - U(0, 10), ivc_y - U(0, 10), 115)], [U(8, 12), U(9, 13), U(10, 14)])

        # ---- liver: large right lobe + left lobe extending anteriorly over midline
        lz = U(25, 55)
        self.liver_main = _Ellipsoid((-ax * U(0.40, 0.52), -ay * U(0.0, 0.15), lz),
                                     (U(55, 72) * k, U(60, 80) * k, U(65, 88) * k),
                                     (U(-.15, .15), U(-.15, .15), U(-.25, .15)))
        self.liver_left = _Ellipsoid((ax * U(-0.1, 0.12), -ay * U(0.35, 0.55), lz + U(5, 25)),
                                     (U(40, 65) * k, U(18, 32) * k, U(28, 45) * k),
                                     (U(-.2, .2), U(-.1, .1), U(-.35, .1)))
        self.liver_cut = _Ellipsoid((-ax * 0.45 + U(-10, 15), ay * U(0.35, 0.55), lz - U(60, 90)),
                                    (U(45, 70), U(45, 70), U(50, 70)))  # inferior-posterior notch
        self.liver_vessels = []
        hv = (ivc_x - 5, ivc_y - 5, lz + U(35, 55))
        for _ in range(int(rng.integers(2, 5))):  # hepatic veins from the IVC
            end = (hv[0] + U(-90, 20) * k, hv[1] - U(10, 80) * k, hv[2] + U(-40, 15))
            self.liver_vessels.append(_Tube([hv, end], [U(3.5, 6.5), U(1.5, 3)]))
        pv = (-ax * 0.28, -ay * U(0.0, 0.2), lz - U(15, 30))
        for _ in range(int(rng.integers(2, 5))):  # portal branches from the hilum
            end = (pv[0] + U(-80, 30) * k, pv[1] + U(-60, 40) * k, pv[2] + U(-10, 45))
            self.liver_vessels.append(_Tube([pv, end], [U(4, 7), U(1.5, 3)]))
        self.gallbladder = (_Ellipsoid((-ax * U(0.3, 0.45), -ay * U(0.3, 0.6), lz - U(35, 60)),
                                       (U(12, 22), U(14, 25), U(25, 45)), (U(-.5, .5), 0, U(-.5, .5)))
                            if rng.random() < 0.7 else None)

        # ---- spleen: crescent, left posterior -----------------------------------
        sc = (ax * U(0.62, 0.78), ay * U(0.2, 0.45), lz + U(0, 30))
        rot = (U(-.2, .2), U(-.2, .2), U(-1.0, -0.45))
        sr = (U(22, 32) * k, U(48, 66) * k, U(40, 60) * k)
        self.spleen = _Ellipsoid(sc, sr, rot)
        off = _rot(*rot) @ np.array([-sr[0] * U(1.0, 1.5), 0, 0])
        self.spleen_cut = _Ellipsoid(np.array(sc) + off, (sr[0] * U(0.9, 1.3), sr[1] * 1.1, sr[2] * 1.2), rot)

        # ---- kidneys --------------------------------------------------------------
        self.kidneys = []
        for side, zc in ((-1, lz - U(60, 85)), (1, lz - U(50, 75))):
            c = (side * U(55, 75) * (0.6 + 0.4 * k), sy + U(-10, 10), zc)
            r = (U(24, 32) * k, U(20, 27) * k, U(45, 60) * k)
            rot = (U(-.2, .2), side * U(0.1, 0.3), side * U(0.3, 0.7))
            cortex = U(5, 8)
            self.kidneys.append((_Ellipsoid(c, r, rot),
                                 _Ellipsoid(c, [ri - cortex for ri in r], rot),
                                 _Ellipsoid(np.array(c) + _rot(*rot) @ np.array([-side * r[0] * 0.8, -r[1] * 0.3, 0]),
                                            (r[0] * 0.55, r[1] * 0.5, r[2] * 0.45), rot)))

        # ---- pancreas: tapered tube, head right of midline, tail toward splenic hilum
        py = aorta_y - U(14, 26)
        pz = lz - U(35, 55)
        head = (-U(25, 45) * k, py + U(-10, 5), pz - U(5, 20))
        neck = (-U(0, 15) * k, py - U(5, 15), pz + U(-5, 5))
        body = (U(15, 35) * k, py - U(0, 12), pz + U(0, 12))
        tail1 = (U(45, 65) * k, py + U(0, 20), pz + U(8, 25))
        tail2 = (sc[0] - sr[0] * U(1.0, 1.6), sc[1] - U(0, 15), pz + U(15, 40))
        t = U(0.8, 1.25)
        self.pancreas = _Tube([head, neck, body, tail1, tail2],
                              [U(13, 19) * t, U(7, 10) * t, U(8, 12) * t, U(7, 11) * t, U(5, 9) * t])
        self.pancreas_fat = U(0.0, 0.55) if rng.random() < 0.5 else 0.0
        self.splenic_vein = _Tube([neck[:1] + (py + 12, neck[2]), (body[0], py + 10, body[2]),
                                   (tail1[0], tail1[1] + 10, tail1[2]), tail2[:1] + (tail2[1] + 8, tail2[2])],
                                  [U(4, 6)] * 4)
        self.smv = _Tube([(neck[0], py + 8, pz - 120), (neck[0], py + 10, pz)], [U(4, 7)] * 2)
        self.sma = _Tube([(self.aorta.p[0][0] - 5, py + 2, pz - 120), (self.aorta.p[0][0] - 5, py - 5, pz - 10),
                          (self.aorta.p[0][0], aorta_y, pz + 5)], [U(3, 4.5)] * 3)
        self.portal = _Tube([(neck[0], py + 10, pz), (-ax * 0.28, -ay * 0.1, lz - 20)], [U(6, 8)] * 2)

        # ---- hollow organs ----------------------------------------------------------
        self.stomach = _Ellipsoid((ax * U(0.25, 0.45), -ay * U(0.15, 0.45), lz + U(0, 30)),
                                  (U(40, 60) * k, U(30, 45) * k, U(45, 70) * k), (U(-.3, .3), U(-.3, .3), U(-.6, .2)))
        self.stomach_air = U(0.0, 0.6)
        self.stomach_fill = U(-5, 45)
        self.duodenum = _Tube([(self.stomach.c[0] - 35, self.stomach.c[1] + 5, pz + 10),
                               (head[0] - U(15, 25), head[1] - 5, head[2] + 10),
                               (head[0] - U(15, 25), head[1] + 5, head[2] - 25),
                               (head[0] + 30, head[1] + 5, head[2] - U(30, 45)),
                               (body[0], head[1] + 10, head[2] - 25)], [U(8, 13)] * 5)
        self.bowel = []
        for _ in range(int(rng.integers(8, 18))):
            c = (U(-0.8, 0.8) * ax, U(-0.9, 0.2) * ay, pz - U(10, 140))
            self.bowel.append((_Ellipsoid(c, (U(10, 28), U(10, 25), U(10, 30)), (U(-1, 1), U(-1, 1), U(-1, 1))),
                               U(-20, 50), rng.random() < 0.35))
        self.colon = []
        for side in (-1, 1):  # ascending/descending colon, lateral
            x = side * ax * U(0.6, 0.8)
            self.colon.append(_Tube([(x, ay * U(-0.1, 0.2), -250), (x, ay * U(-0.2, 0.2), lz - U(10, 40) - (20 if side < 0 else -10))],
                                    [U(14, 22)] * 2))
        tz = pz - U(10, 50)
        self.colon.append(_Tube([(-ax * 0.7, -ay * 0.2, tz + U(-10, 20)), (0, -ay * U(0.5, 0.8), tz),
                                 (ax * 0.7, -ay * 0.2, tz + U(10, 40))], [U(13, 20)] * 3))

        # ---- contrast phase / tissue HU (organ ranges deliberately overlap) ---------
        phase = rng.choice(["native", "arterial", "portal"], p=[0.35, 0.2, 0.45])
        self.phase = str(phase)
        if phase == "native":
            hu = dict(liver=U(40, 70), spleen=U(32, 58), pancreas=U(25, 55), cortex=U(22, 42),
                      medulla=U(20, 35), aorta=U(32, 55), ivc=U(30, 50), veins=U(30, 50))
            hu["hepv"] = hu["liver"] - U(5, 20)
        elif phase == "arterial":
            hu = dict(liver=U(55, 90), spleen=U(70, 140), pancreas=U(75, 130), cortex=U(150, 260),
                      medulla=U(60, 110), aorta=U(200, 380), ivc=U(60, 110), veins=U(80, 150))
            hu["hepv"] = hu["liver"] + U(-10, 20)
        else:
            hu = dict(liver=U(85, 135), spleen=U(90, 140), pancreas=U(70, 120), cortex=U(140, 210),
                      medulla=U(130, 200), aorta=U(130, 210), ivc=U(100, 170), veins=U(130, 210))
            hu["hepv"] = hu["liver"] + U(15, 60)
        hu.update(fat=U(-125, -80), vfat=U(-115, -70), muscle=U(35, 60), csf=U(5, 25), disc=U(60, 100),
                  cancellous=U(140, 320), cortical=U(500, 1000), bowel_wall=U(30, 70), gb=U(-5, 25))
        self.hu = hu
        self.spleen_tex = 25.0 if phase == "arterial" and rng.random() < 0.6 else 5.0

        # ---- pose, deformation, texture ----------------------------------------------
        self.R = _rot(U(-.06, .06), U(-.04, .04), U(-.12, .12)).astype(np.float32)
        self.deform = [_Waves(rng, 4, 120, 320, U(2, 7)) for _ in range(3)]
        self.tex = _Waves(rng, 6, 12, 45, 1.0)
        self.tex_fine = _Waves(rng, 6, 5, 12, 1.0)
        self.rib_period, self.rib_phase, self.rib_slope = U(24, 34), U(0, 40), U(0.7, 1.1)
        self.rib_r = U(4.5, 7)
        # ---- field of view (mm, anatomy frame) -----------------------------------------
        mx, my = U(-30, 50), U(-25, 50)
        cx, cy = U(-15, 15), U(-15, 15)
        self.fov_x = (cx - self.body_ax - mx, cx + self.body_ax + mx)
        self.fov_y = (cy - self.body_ay - my, cy + self.body_ay + my)
        H = U(90, 190)
        zc = lz + U(-45, 5)
        self.fov_z = (zc - H / 2, zc + H / 2)
        self.world_offset = np.array([U(-30, 30), U(-30, 30), U(-400, 100)])  # table position
        # ---- acquisition -------------------------------------------------------------------
        self.noise_sigma = U(5, 25)
        self.blur_xy_mm = U(0.3, 1.0)
        self.slice_thickness = U(1.0, 5.0)

    # -------------------------------------------------------------------------------------
    def render(self, spacing_zyx, max_chunk_voxels=3_000_000, noise=True):
        sz, sy, sx = [float(s) for s in spacing_zyx]
        nx = max(1, int(round((self.fov_x[1] - self.fov_x[0]) / sx)))
        ny = max(1, int(round((self.fov_y[1] - self.fov_y[0]) / sy)))
        nz = max(1, int(round((self.fov_z[1] - self.fov_z[0]) / sz)))
        xs = (self.fov_x[0] + sx * np.arange(nx)).astype(np.float32)
        ys = (self.fov_y[0] + sy * np.arange(ny)).astype(np.float32)
        zs = (self.fov_z[0] + sz * np.arange(nz)).astype(np.float32)
        img = np.empty((nz, ny, nx), np.float32)
        lab = np.empty((nz, ny, nx), np.uint8)
        step = max(1, max_chunk_voxels // (nx * ny))
        for z0 in range(0, nz, step):
            i, l = self._render_chunk(zs[z0:z0 + step], ys, xs)
            img[z0:z0 + step], lab[z0:z0 + step] = i, l
        if noise:
            rng = np.random.default_rng(self.seed + 7_777_777)
            sig = (max(self.slice_thickness / 2.355, 0.3) / sz, self.blur_xy_mm / sy, self.blur_xy_mm / sx)
            img = ndimage.gaussian_filter(img, sig, mode="nearest")
            img += rng.normal(0.0, self.noise_sigma, size=img.shape).astype(np.float32)
        img = np.clip(np.rint(img), -1024, 3071).astype(np.int16)
        origin = np.array([zs[0], ys[0], xs[0]]) + self.world_offset[::-1]
        return {"image": img, "label": lab, "spacing": (sz, sy, sx), "origin": tuple(float(o) for o in origin)}

    def _render_chunk(self, zs, ys, xs):
        Z, Y, X = np.meshgrid(zs, ys, xs, indexing="ij")
        # pose + smooth deformation: anatomy coordinates of each voxel
        R = self.R
        x = R[0, 0] * X + R[0, 1] * Y + R[0, 2] * Z
        y = R[1, 0] * X + R[1, 1] * Y + R[1, 2] * Z
        z = R[2, 0] * X + R[2, 1] * Y + R[2, 2] * Z
        x, y, z = x + self.deform[0](X, Y, Z), y + self.deform[1](X, Y, Z), z + self.deform[2](X, Y, Z)
        del X, Y, Z
        hu = self.hu
        tex = self.tex(x, y, z)
        texf = self.tex_fine(x, y, z)
        img = np.full(x.shape, -1000.0, np.float32)
        lab = np.zeros(x.shape, np.uint8)

        def paint(mask, val, label=0):
            img[mask] = val[mask] if isinstance(val, np.ndarray) else val
            lab[mask] = label

        # body layers
        body = _se(x, y, self.body_ax, self.body_ay) <= 1
        paint(body, hu["fat"] + 6 * texf)
        cav_wall = _se(x, y, self.cav_ax + self.wall, self.cav_ay + self.wall) <= 1
        paint(cav_wall & body, hu["muscle"] + 4 * tex)
        cav = _se(x, y, self.cav_ax, self.cav_ay) <= 1
        paint(cav, hu["vfat"] + 12 * texf)
        sy, rv = self.spine_y, self.rv
        # paraspinal + psoas muscles
        for s in (-1, 1):
            m = ((x - s * (rv + 18)) / 24) ** 2 + ((y - (sy + rv + 28)) / 26) ** 2 <= 1
            paint(m & body, hu["muscle"] + 4 * tex)
            pr = np.clip(6 + (-(z - 40)) * 0.18, 0, 28)
            m = ((x - s * (rv + 12)) ** 2 + (y - sy) ** 2 <= pr ** 2) & (z < 40)
            paint(m & cav, hu["muscle"] + 4 * tex)
        # bowel, colon, duodenum, stomach
        for e, v, air in self.bowel:
            q = e.q(x, y, z)
            m = q <= 1
            content = np.where(air & (texf > 0.2), -900.0, v + 8 * texf).astype(np.float32)
            paint(m & cav, content)
            paint((q > 0.72) & m & cav, np.float32(hu["bowel_wall"]))
        for tb in self.colon:
            d = tb.sd(x, y, z)
            m = (d < 0) & cav
            stool = np.where(texf > 0.0, -850.0, 10 + 30 * tex).astype(np.float32)
            paint(m, stool)
            paint(m & (d > -3), np.float32(hu["bowel_wall"]))
        d = self.duodenum.sd(x, y, z)
        paint((d < 0) & cav, np.float32(hu["bowel_wall"] - 15) + 10 * texf)
        q = self.stomach.q(x, y, z)
        m = (q <= 1) & cav
        fill = np.float32(self.stomach_fill) + 8 * tex
        airline = self.stomach.c[1] - self.stomach.r[1] * (1 - 2 * self.stomach_air) * 0.9
        fill = np.where(y < airline, np.float32(-950), fill)
        paint(m, fill)
        paint(m & (q > 0.8), np.float32(hu["bowel_wall"] + 10))
        # kidneys (cortex, medulla, sinus fat)
        for outer, inner, sinus in self.kidneys:
            m = (outer.q(x, y, z) <= 1) & cav
            paint(m, hu["cortex"] + 4 * tex)
            paint(m & (inner.q(x, y, z) <= 1), hu["medulla"] + 6 * texf)
            paint(m & (sinus.q(x, y, z) <= 1), hu["vfat"] + 10 * texf)
        # liver
        ql = np.minimum(self.liver_main.q(x, y, z), self.liver_left.q(x, y, z))
        m = (ql <= 1) & (self.liver_cut.q(x, y, z) > 1) & cav
        for outer, _, _ in self.kidneys[:1]:  # right kidney indents the liver
            m &= outer.q(x, y, z) > 1.15
        paint(m, hu["liver"] + 6 * tex + 3 * texf, 1)
        for v in self.liver_vessels:
            mv = m & (v.sd(x, y, z) < 0)
            img[mv] = hu["hepv"]
        if self.gallbladder is not None:
            paint((self.gallbladder.q(x, y, z) <= 1) & cav, hu["gb"] + 3 * texf)
        # spleen (crescent)
        m = (self.spleen.q(x, y, z) <= 1) & (self.spleen_cut.q(x, y, z) > 1) & cav
        paint(m, hu["spleen"] + self.spleen_tex * tex + 4 * texf, 2)
        # pancreas (optionally fatty / lobulated)
        m = (self.pancreas.sd(x, y, z) < 0) & cav
        pv = hu["pancreas"] + 8 * texf
        if self.pancreas_fat > 0:
            f = np.clip((self.pancreas_fat - 0.5 * (texf + 1)) * 3 + 0.5, 0, 1) * self.pancreas_fat
            pv = (1 - f) * pv + f * hu["vfat"]
        paint(m, pv.astype(np.float32), 3)
        # vessels (not labelled)
        paint((self.splenic_vein.sd(x, y, z) < 0) & cav, np.float32(hu["veins"]))
        paint((self.smv.sd(x, y, z) < 0) & cav, np.float32(hu["veins"]))
        paint((self.portal.sd(x, y, z) < 0) & cav, np.float32(hu["veins"]))
        paint((self.sma.sd(x, y, z) < 0) & cav, np.float32(hu["aorta"]))
        paint((self.ivc.sd(x, y, z) < 0) & cav, np.float32(hu["ivc"]))
        paint(self.aorta.sd(x, y, z) < 0, np.float32(hu["aorta"]))
        # spine: vertebral bodies with discs, canal, posterior elements
        zz = np.mod(z - self.vert_phase, self.vert_period)
        disc = np.abs(zz - self.vert_period / 2) > self.vert_period / 2 - 3.5
        vb = ((x / (rv * 1.15)) ** 2 + ((y - sy) / rv) ** 2)
        mvb = vb <= 1
        paint(mvb, np.where(disc, np.float32(hu["disc"]),
                            np.where(vb > 0.72, np.float32(hu["cortical"]), hu["cancellous"] + 25 * texf)).astype(np.float32))
        cy = sy + rv + 11
        rc = (x ** 2 + (y - cy) ** 2)
        arch = (rc <= 17 ** 2) | (((x / 5) ** 2 + ((y - cy - 22) / 14) ** 2) <= 1) | \
               ((((np.abs(x) - 26) / 16) ** 2 + ((y - cy + 3) / 5) ** 2) <= 1)
        paint(arch & ~disc & ~mvb, np.float32(hu["cortical"] * 0.7))
        paint(rc <= 8.5 ** 2, np.float32(hu["csf"]))
        # ribs: tubes running along the body wall, descending anteriorly
        bx, by = self.cav_ax + self.wall * 0.5, self.cav_ay + self.wall * 0.5
        rn = np.sqrt((x / bx) ** 2 + (y / by) ** 2)
        dr = (rn - 1) * math.sqrt(bx * by)
        zr = z + self.rib_slope * (by - y)
        kk = np.rint((zr - self.rib_phase) / self.rib_period)
        dz = zr - self.rib_phase - kk * self.rib_period
        rib = (dr ** 2 + dz ** 2 <= self.rib_r ** 2) & (kk * self.rib_period + self.rib_phase > 15)
        rib &= ~((y < -0.35 * by) & (np.abs(x) < 0.5 * bx))
        ribc = dr ** 2 + dz ** 2 <= (self.rib_r - 1.8) ** 2
        paint(rib, np.where(ribc, np.float32(hu["cancellous"]), np.float32(hu["cortical"])).astype(np.float32))
        # organs must stay inside the body (air outside)
        outside = ~body
        img[outside] = -1000.0
        lab[outside] = 0
        return img, lab


def render(seed, spacing_zyx, **kw):
    return Phantom(seed).render(spacing_zyx, **kw)


if __name__ == "__main__":
    import sys
    import time
    t = time.time()
    c = render(int(sys.argv[1]) if len(sys.argv) > 1 else 0, (2.0, 2.0, 2.0))
    print(c["image"].shape, time.time() - t, {n: int((c["label"] == k).sum()) for k, n in LABELS.items()})
