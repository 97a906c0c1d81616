"""W2 in PyTorch: the reference the W2 target is stated against (2x PyTorch's time per step).

MLP 784-256-10, relu, float32, batch 64, mean softmax cross-entropy, one SGD step (lr 0.01) =
forward + backward + update, on the shared data of ../shared/bench-data/mlp.bin, on one thread.
Run from the project root with Debian's Python and PyTorch (1.13, the reference's version):
  apt-get install python3-torch libopenblas0-serial
  /usr/bin/python3 bench/pytorch/w2.py
Without libopenblas0-serial, Debian's torch multiplies with the reference BLAS, about 15x slower.
Prints the initial loss against the reference, then the median and minimum ms per step (1,000
steps after 200 of warm-up). With `--json STEPS` it times STEPS steps instead and prints one JSON
line (the initial loss and every step's ms), for bench/workloads/w2-torch.ts, which alternates
it with yieldiff's step.
"""
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
data = Path.cwd().parent / "shared" / "bench-data"
meta = json.loads((data / "mlp.json").read_text())
floats = np.fromfile(data / "mlp.bin", dtype="<f4")
arrays, at = {}, 0
for name in meta["order"]:
    shape = meta["shapes"].get(name) or meta["shapes"][name[1:] if name[0] in "vg" else name[2:]]
    n = int(np.prod(shape))
    arrays[name] = torch.from_numpy(floats[at : at + n].reshape(shape).copy())
    at += n
assert at == floats.size, f"mlp.bin holds {floats.size} floats, mlp.json lists {at}"

x, onehot = arrays["x"], arrays["yoh"]
params = [arrays[k].clone().requires_grad_(True) for k in ("W1", "b1", "W2", "b2")]
opt = torch.optim.SGD(params, lr=0.01)


def loss_of(W1, b1, W2, b2):
    z = torch.relu(x @ W1 + b1) @ W2 + b2
    return -(torch.log_softmax(z, dim=1) * onehot).sum(dim=1).mean()


initial = loss_of(*params).item()
assert abs(initial - meta["loss"]) <= 1e-5 * abs(meta["loss"]), f"initial loss {initial} vs reference {meta['loss']}"


def step():
    opt.zero_grad(set_to_none=False)
    loss = loss_of(*params)
    loss.backward()
    opt.step()
    return loss


as_json = len(sys.argv) == 3 and sys.argv[1] == "--json"
for _ in range(200):  # warm-up
    step()
times = []
for _ in range(int(sys.argv[2]) if as_json else 1000):
    start = time.perf_counter()
    step()
    times.append((time.perf_counter() - start) * 1e3)
if as_json:
    print(json.dumps({"torch": torch.__version__, "initial": initial, "times": times}))
    sys.exit(0)
print(f"PyTorch {torch.__version__}, 1 thread: initial loss {initial:.6f} (reference {meta['loss']:.6f})")
print(f"W2 PyTorch: median {statistics.median(times):.3f} ms/step, min {min(times):.3f}")
