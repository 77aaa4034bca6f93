#!/usr/bin/env python3
"""The jvae presets in PyTorch, for side-by-side speed and loss (bench/compare.sh).

Same model, optimizer, batch, loss (summed BCE over pixels + KL, reported per example) and data
(MNIST IDX files read directly, pixels / 255) as `jvae train --preset P`. PyTorch's speed on a
small CPU depends heavily on threads, so `--sweep` runs every combination of intra-op threads
{1, 2} x OpenBLAS threads {1, 2} (each in a fresh process, since OPENBLAS_NUM_THREADS is read
at import) and reports the best; the jvae side gets that best as its peer.

  python3 bench/pytorch_vae.py --preset pytorch --epochs 2 --batch 128 --sweep
Prints one JSON object per epoch and a final {"best": ...} line.
"""
import argparse, gzip, json, os, struct, subprocess, sys, time

PRESETS = {
    # hidden, latent, activation, optimizer, lr, batch, epochs, l2, init (torch: nn.Linear's default;
    # glorot: Keras' Dense, Glorot-uniform weights and zero biases, as jvae's Init.GLOROT)
    "pytorch": dict(hidden=400, latent=20, act="relu", opt="adam", lr=1e-3, batch=128, epochs=10, l2=0.0, init="torch"),
    "seed": dict(hidden=256, latent=2, act="tanh", opt="rmsprop", lr=1e-3, batch=100, epochs=50, l2=1e-4, init="glorot"),
}


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 8, path + ": not an unsigned-byte IDX file"
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def load(dir_, name):
    import torch
    for cand in (name, name + ".gz"):
        p = os.path.join(dir_, cand)
        if os.path.exists(p):
            dims, raw = read_idx(p)
            t = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
            return t.view(dims[0], -1).float() / 255.0
    sys.exit("missing %s in %s (run ./jvae data fetch)" % (name, dir_))


def run(args):
    import torch
    from torch import nn
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    p = PRESETS[args.preset]
    batch = args.batch or p["batch"]
    act = nn.ReLU if p["act"] == "relu" else nn.Tanh
    h, L = p["hidden"], args.latent or p["latent"]

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(784, h), act())
            self.mu, self.lv = nn.Linear(h, L), nn.Linear(h, L)
            self.dec = nn.Sequential(nn.Linear(L, h), act(), nn.Linear(h, 784))

        def forward(self, x):
            e = self.enc(x)
            mu, lv = self.mu(e), self.lv(e)
            z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
            return self.dec(z), mu, lv

    def loss_fn(logits, x, mu, lv):
        rec = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())
        return rec, kl

    model = VAE()
    if p["init"] == "glorot":
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
    if p["opt"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=p["lr"])
    else:
        opt = torch.optim.RMSprop(model.parameters(), lr=p["lr"], alpha=0.9, eps=1e-7)
    train = load(args.data, "train-images-idx3-ubyte")
    test = load(args.data, "t10k-images-idx3-ubyte")
    n = train.shape[0]
    curve = []
    for epoch in range(1, (args.epochs or p["epochs"]) + 1):
        model.train()
        perm = torch.randperm(n)
        train_sum = torch.zeros(())  # -ELBO summed over the epoch's examples, L2 excluded (as jvae's train_loss)
        t0 = time.perf_counter()
        for s in range(0, n, batch):
            x = train[perm[s:s + batch]]
            logits, mu, lv = model(x)
            rec, kl = loss_fn(logits, x, mu, lv)
            loss = (rec + kl) / x.shape[0]
            if p["l2"] > 0:
                loss = loss + p["l2"] * sum((m.weight ** 2).sum() for m in model.modules() if isinstance(m, nn.Linear))
            opt.zero_grad()
            loss.backward()
            opt.step()
            train_sum += (rec + kl).detach()
        sec = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            tr, tk = 0.0, 0.0
            for s in range(0, test.shape[0], 1000):
                x = test[s:s + 1000]
                logits, mu, lv = model(x)
                r, k = loss_fn(logits, x, mu, lv)
                tr += r.item()
                tk += k.item()
        m = test.shape[0]
        curve.append((tr + tk) / m)
        print(json.dumps(dict(epoch=epoch, train_loss=train_sum.item() / n, test_loss=(tr + tk) / m, test_recon=tr / m, test_kl=tk / m,
                              seconds=sec, samples_per_s=n / sec, threads=args.threads,
                              openblas_threads=os.environ.get("OPENBLAS_NUM_THREADS"), batch=batch,
                              torch=torch.__version__)), flush=True)
    if args.replay_patience:
        print(json.dumps(dict(early_stopping_replayed=replay(curve, args.replay_patience))), flush=True)


def replay(curve, patience):
    """Keras' EarlyStopping(patience, min_delta=0) on the test loss, replayed on a finished curve:
    a run that stops follows the same trajectory up to that epoch (as jvae's EarlyStopping.replay)."""
    best, best_epoch, wait = float("inf"), 0, 0
    for epoch, loss in enumerate(curve, 1):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return dict(patience=patience, best=best, best_epoch=best_epoch, stopped_after=epoch)
    return dict(patience=patience, best=best, best_epoch=best_epoch, stopped_after=None)


def median(v):
    v = sorted(v)
    return v[len(v) // 2]


def sweep(args):
    best = None
    for t in (1, 2):
        for ob in (1, 2):
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(ob), OMP_NUM_THREADS=str(ob))
            cmd = [sys.executable, __file__, "--preset", args.preset, "--threads", str(t), "--data", args.data,
                   "--seed", str(args.seed)] + (["--epochs", str(args.epochs)] if args.epochs else []) + \
                  (["--latent", str(args.latent)] if args.latent else []) + \
                  (["--batch", str(args.batch)] if args.batch else [])
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
            rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
            for r in rows:
                print(json.dumps(r), flush=True)
            med = median([r["samples_per_s"] for r in rows])
            if best is None or med > best["samples_per_s_median"]:
                best = dict(threads=t, openblas_threads=ob, samples_per_s_median=med, epochs=rows)
    print(json.dumps({"best": best}), flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="pytorch", choices=sorted(PRESETS))
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--latent", type=int, help="latent size (default: the preset's)")
    ap.add_argument("--replay-patience", type=int, default=0,
                    help="at the end, print what early stopping with this patience would have given on the test-loss curve")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=os.environ.get("JVAE_DATA", os.path.expanduser("~/.cache/jvae/mnist")))
    ap.add_argument("--sweep", action="store_true", help="try intra-op x OpenBLAS threads in {1,2}^2, report the best")
    a = ap.parse_args()
    sweep(a) if a.sweep else run(a)
