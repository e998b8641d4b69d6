"""Statistics of torchvision 0.14's RandomResizedCrop.get_params, for the crop sampler spec.

stdin: {"settings": [{"width", "height", "scale": [a, b]}], "draws", "seed"}; stdout: per
setting, mean and standard deviation of the area fraction, mean and spread of the log
aspect ratio, and the share of crops in the lowest tenth of the scale range.
"""
import json
import math
import sys

try:
    import torch
    import torchvision.transforms as T
    from PIL import Image
except ImportError as err:
    sys.stderr.write(f"crop_stats.py needs torchvision 0.14 under this interpreter: {err}\n")
    sys.exit(3)



def stats(width, height, scale, draws):
    img = Image.new("RGB", (width, height))
    a, b = scale
    cut = a + 0.1 * (b - a)
    areas, logs = [], []
    for _ in range(draws):
        i, j, h, w = T.RandomResizedCrop.get_params(img, [a, b], [3 / 4, 4 / 3])
        areas.append(w * h / (width * height))
        logs.append(math.log(w / h))
    n = len(areas)
    mean_area = sum(areas) / n
    mean_log = sum(logs) / n
    return {
        "mean_area": mean_area,
        "sd_area": math.sqrt(sum((x - mean_area) ** 2 for x in areas) / n),
        "mean_log_ratio": mean_log,
        "sd_log_ratio": math.sqrt(sum((x - mean_log) ** 2 for x in logs) / n),
        "below_cut": sum(x < cut for x in areas) / n,
    }


req = json.load(sys.stdin)
torch.manual_seed(req["seed"])
json.dump([stats(s["width"], s["height"], s["scale"], req["draws"]) for s in req["settings"]], sys.stdout)
