"""Reference outputs of torchvision 0.14 / Pillow functional ops, for the augment specs.

Reads one JSON object on stdin: {"width", "height", "rgb" (base64 of interleaved uint8),
"ops": [{"op": name, ...params}]}; applies each op on its own to the same image and writes
{"outputs": [{"width", "height", "rgb"}]} on stdout. Used only by tests, never by the product.
"""
import base64
import json
import sys

try:
    import numpy as np
    from PIL import Image, ImageFilter, ImageOps
except ImportError as err:  # the specs turn this into a failed test with this text
    sys.stderr.write(f"pil_reference.py needs Pillow and NumPy under this interpreter: {err}\n")
    sys.exit(3)


def tv():
    """torchvision.transforms.functional, imported only for the ops that need it (slow to load)."""
    try:
        import torchvision.transforms.functional as F
    except ImportError as err:
        sys.stderr.write(f"pil_reference.py needs torchvision 0.14 under this interpreter: {err}\n")
        sys.exit(3)
    return F


def apply(img, spec):
    op = spec["op"]
    if op == "blur":
        return img.filter(ImageFilter.GaussianBlur(radius=spec["radius"]))
    if op == "solarize":
        return ImageOps.solarize(img, threshold=128)
    if op == "sequence":
        for step in spec["ops"]:
            img = apply(img, step)
        return img
    F = tv()
    if op == "brightness":
        return F.adjust_brightness(img, spec["factor"])
    if op == "contrast":
        return F.adjust_contrast(img, spec["factor"])
    if op == "saturation":
        return F.adjust_saturation(img, spec["factor"])
    if op == "hue":
        return F.adjust_hue(img, spec["factor"])
    if op == "grayscale":
        return F.rgb_to_grayscale(img, num_output_channels=3)
    if op == "resized_crop":
        out = F.resized_crop(img, spec["top"], spec["left"], spec["height"], spec["width"],
                             [spec["size"], spec["size"]], F.InterpolationMode.BICUBIC)
        return F.hflip(out) if spec.get("flip") else out
    raise ValueError(f"unknown op {op!r}")


def main():
    req = json.load(sys.stdin)
    raw = np.frombuffer(base64.b64decode(req["rgb"]), dtype=np.uint8)
    img = Image.fromarray(raw.reshape(req["height"], req["width"], 3), "RGB")
    outs = []
    for spec in req["ops"]:
        res = np.asarray(apply(img, spec).convert("RGB"), dtype=np.uint8)
        outs.append({"width": res.shape[1], "height": res.shape[0],
                     "rgb": base64.b64encode(res.tobytes()).decode("ascii")})
    json.dump({"outputs": outs}, sys.stdout)


if __name__ == "__main__":
    main()
