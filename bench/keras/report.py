"""Prints bench/keras/run.sh's tables from the JSON lines in OUT and draws the curve PNGs.

    python report.py OUT [PNG_DIR]

OUT holds exercise2-keras.jsonl, ex2bn-*.jsonl, ex2selu-*.jsonl, ex2onecycle-*.jsonl (issue 27), exercise2-xla.jsonl, exercise2-go.jsonl, lab3-keras.jsonl,
lab3-xla.jsonl, lab3-go.jsonl (any may be missing or partial) and speed.txt ("ROW {json}" lines,
as bench/train/run.sh writes them). The curve PNGs (one seed of Keras and of cifarlab XLA
overlaid) are written to PNG_DIR (default OUT).
"""
import datetime
import json
import os
import statistics
import sys

WHO = {"keras": "Keras 3 / TF 2.20", "xla": "cifarlab XLA", "go": "cifarlab Go"}


def load(path):
    if not os.path.exists(path):
        return []
    rows = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows


def fmt_p(p):
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def jitter(r):
    """Mean change of val_loss from one epoch to the next (from epoch 2 on): how rough the curve is."""
    v = r["history"]["val_loss"][1:]
    return statistics.mean(abs(a - b) for a, b in zip(v, v[1:])) if len(v) > 1 else float("nan")


def exercise2(out):
    from scipy.stats import ks_2samp, mannwhitneyu

    runs = {w: load(os.path.join(out, f"exercise2-{w}.jsonl")) for w in WHO}
    for rows in runs.values():
        for r in rows:
            r["val_loss_jitter"] = jitter(r)
    if not any(runs.values()):
        return
    print("## Exercise 2: test accuracy over seeds (first 5,000 / 1,000 images)\n")
    print("| who | seeds | test acc median | min–max | mean | sd | epochs (median) | best val_loss (median) | val_loss jitter (median) | s/run (median) |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for w, rows in runs.items():
        if not rows:
            continue
        acc = [r["test_accuracy"] for r in rows]
        sd = statistics.stdev(acc) if len(acc) > 1 else float("nan")
        print(f"| {WHO[w]} | {len(rows)} | {statistics.median(acc):.4f} | {min(acc):.3f}–{max(acc):.3f} | "
              f"{statistics.mean(acc):.4f} | {sd:.4f} | {statistics.median(r['epochs'] for r in rows):g} | "
              f"{statistics.median(r['best_val_loss'] for r in rows):.3f} | "
              f"{statistics.median(r['val_loss_jitter'] for r in rows):.3f} | "
              f"{statistics.median(r['train_seconds'] for r in rows):.1f} |")
    ref = runs["keras"]
    if len(ref) >= 3:
        print("\nTwo-sample tests against Keras (two-sided; p < 0.05 rejects \"same distribution\"):\n")
        print("| who | measure | median difference | Mann-Whitney U p | Kolmogorov-Smirnov p |")
        print("|---|---|---:|---:|---:|")
        for w in ("xla", "go"):
            if len(runs[w]) < 3:
                continue
            for key in ("test_accuracy", "epochs", "best_val_loss", "val_loss_jitter"):
                a = [r[key] for r in runs[w]]
                b = [r[key] for r in ref]
                mw = mannwhitneyu(a, b, alternative="two-sided").pvalue
                ks = ks_2samp(a, b).pvalue
                print(f"| {WHO[w]} | {key} | {statistics.median(a) - statistics.median(b):+.4f} | {fmt_p(mw)} | {fmt_p(ks)} |")
    print("\nval_loss jitter: the mean |change of val_loss| from one epoch to the next (epoch 2 on).\n")


ISSUE27 = {
    "ex2bn": "(c) BN: 4 × [Dense 256 He-normal → BN → ELU], Nadam(5e-4), early stopping",
    "ex2selu": "(d) SELU: Normalization (adapted) → 4 × Dense 256 SELU LeCun-normal, Nadam(7e-4), early stopping",
    "ex2onecycle": "(f) 1cycle: (d)'s network, SGD, OneCycleScheduler(480 steps, max_rate 0.05), 15 epochs, no early stopping",
}


def epoch_seconds(r):
    """A run's median seconds per epoch, epoch 1 (tracing, compilation) left out."""
    s = r["history"]["seconds"]
    return statistics.median(s[1:] or s)


def issue27(out):
    import warnings

    from scipy.stats import ks_2samp, mannwhitneyu

    # Ties (epochs, best epochs) make ks_2samp fall back from its exact p to the asymptotic one.
    warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful")

    runs = {lab: {w: load(os.path.join(out, f"{lab}-{w}.jsonl")) for w in WHO} for lab in ISSUE27}
    if not any(rows for by in runs.values() for rows in by.values()):
        return
    print("## Issue 27: questions (c), (d), (f) on exercise 2's data (first 5,000 / 1,000 images)\n")
    for lab, desc in ISSUE27.items():
        print(f"- {lab}: {desc}")
    print()
    print("| question | who | seeds | test acc median | min–max | mean | sd | epochs (median, min–max) | best epoch (median) | best val_loss (median) | s/epoch (median) |")
    print("|---|---|---:|---:|---|---:|---:|---|---:|---:|---:|")
    for lab, by in runs.items():
        for w, rows in by.items():
            if not rows:
                continue
            acc = [r["test_accuracy"] for r in rows]
            ep = [r["epochs"] for r in rows]
            sd = statistics.stdev(acc) if len(acc) > 1 else float("nan")
            print(f"| {lab} | {WHO[w]} | {len(rows)} | {statistics.median(acc):.4f} | {min(acc):.3f}–{max(acc):.3f} | "
                  f"{statistics.mean(acc):.4f} | {sd:.4f} | {statistics.median(ep):g} ({min(ep)}–{max(ep)}) | "
                  f"{statistics.median(r['best_epoch'] for r in rows):g} | "
                  f"{statistics.median(r['best_val_loss'] for r in rows):.3f} | "
                  f"{statistics.median(epoch_seconds(r) for r in rows):.2f} |")
    print("\nTwo-sample tests against Keras (two-sided; p < 0.05 rejects \"same distribution\"):\n")
    print("| question | who | measure | median difference | Mann-Whitney U p | Kolmogorov-Smirnov p |")
    print("|---|---|---|---:|---:|---:|")
    for lab, by in runs.items():
        ref = by["keras"]
        for w in ("xla", "go"):
            if len(ref) < 3 or len(by[w]) < 3:
                continue
            keys = ("test_accuracy", "best_epoch", "best_val_loss") if lab == "ex2onecycle" else \
                ("test_accuracy", "epochs", "best_epoch", "best_val_loss")
            for key in keys:
                a = [r[key] for r in by[w]]
                b = [r[key] for r in ref]
                mw = mannwhitneyu(a, b, alternative="two-sided").pvalue
                ks = ks_2samp(a, b).pvalue
                print(f"| {lab} | {WHO[w]} | {key} | {statistics.median(a) - statistics.median(b):+.4f} | {fmt_p(mw)} | {fmt_p(ks)} |")
    # Batch normalization's time overhead: s/epoch of (c) against plain exercise 2 trained in the
    # same rounds (run.sh's issue27 stage), each framework against itself.
    plain = {w: load(os.path.join(out, f"exercise2-{w}.jsonl")) for w in WHO}
    over = {}
    for w in WHO:
        if runs["ex2bn"][w] and plain[w]:
            bn = statistics.median(epoch_seconds(r) for r in runs["ex2bn"][w])
            p = statistics.median(epoch_seconds(r) for r in plain[w])
            over[w] = (bn, p, len(runs["ex2bn"][w]), len(plain[w]))
    if over:
        print("\nBatch normalization's time overhead (median s/epoch over runs, epoch 1 left out; plain: exercise 2 "
              "trained in the same rounds):\n")
        print("| who | plain s/epoch (runs) | BN s/epoch (runs) | BN − plain | BN / plain | overhead relative to Keras's |")
        print("|---|---:|---:|---:|---:|---:|")
        kr = over["keras"][0] / over["keras"][1] if "keras" in over else None
        for w, (bn, p, nb, npl) in over.items():
            ratio = bn / p
            rel = "1" if w == "keras" else (f"{(ratio - 1) / (kr - 1):.2f}x" if kr and kr > 1 else "")
            print(f"| {WHO[w]} | {p:.3f} ({npl}) | {bn:.3f} ({nb}) | {bn - p:+.3f} | {ratio:.2f} | {rel} |")
    steps = {}
    path = os.path.join(out, "speed.txt")
    if os.path.exists(path):
        for line in open(path):
            if " " not in line:
                continue
            who, js = line.split(" ", 1)
            d = json.loads(js)
            if d.get("what") == "step" and d.get("model") in ("exercise2", "ex2bn"):
                steps.setdefault((who, d["model"]), []).append(d["ms_per_step"])
    if steps:
        print("\nPer training step (bench/train's measure: fits of one epoch over 30 random batches of 128, "
              "median of 3 per round; the median over rounds alternating Keras and cifarlab):\n")
        print("| who | plain ms/step (rounds) | BN ms/step (rounds) | BN − plain | BN / plain | overhead relative to Keras's |")
        print("|---|---:|---:|---:|---:|---:|")
        kr = None
        if ("keras", "exercise2") in steps and ("keras", "ex2bn") in steps:
            kr = statistics.median(steps[("keras", "ex2bn")]) - statistics.median(steps[("keras", "exercise2")])
        for w in WHO:
            if (w, "exercise2") not in steps or (w, "ex2bn") not in steps:
                continue
            p, bn = statistics.median(steps[(w, "exercise2")]), statistics.median(steps[(w, "ex2bn")])
            rel = "1" if w == "keras" else (f"{(bn - p) / kr:.2f}x" if kr and kr > 0 else "")
            print(f"| {WHO[w]} | {p:.2f} ({len(steps[(w, 'exercise2')])}) | {bn:.2f} ({len(steps[(w, 'ex2bn')])}) | "
                  f"{bn - p:+.2f} | {bn / p:.2f} | {rel} |")
    print()


def lr_steps(r):
    lr = r["history"]["learning_rate"]
    steps = [f"{i + 1}: {lr[i]:.2g}" for i in range(1, len(lr)) if abs(lr[i] - lr[i - 1]) > 1e-12]
    return ", ".join(steps) or "none"


def lab3(out):
    runs = {w: load(os.path.join(out, f"lab3-{w}.jsonl")) for w in WHO}
    if not any(runs.values()):
        return
    print("## Lab 3: full data, EarlyStopping(10) + ReduceLROnPlateau(0.5, 5)\n")
    print("| who | seed | best val_accuracy | val_accuracy at best val_loss | best epoch | stopped after | test accuracy | LR steps (epoch: new LR) | s/epoch (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for w, rows in runs.items():
        for r in rows:
            print(f"| {WHO[w]} | {r['seed']} | {r['max_val_accuracy']:.4f} | {r['best_val_accuracy']:.4f} | "
                  f"{r['best_epoch']} | {r['epochs']} | {r['test_accuracy']:.4f} | {lr_steps(r)} | "
                  f"{statistics.median(r['history']['seconds'][1:] or r['history']['seconds']):.1f} |")
    print("\n| who | seeds | mean best val_accuracy | mean test accuracy | mean epochs |")
    print("|---|---:|---:|---:|---:|")
    for w, rows in runs.items():
        if rows:
            print(f"| {WHO[w]} | {len(rows)} | {statistics.mean(r['max_val_accuracy'] for r in rows):.4f} | "
                  f"{statistics.mean(r['test_accuracy'] for r in rows):.4f} | {statistics.mean(r['epochs'] for r in rows):.1f} |")
    print()


def curves(out, png_dir, lab):
    runs = {w: load(os.path.join(out, f"{lab}-{w}.jsonl")) for w in ("keras", "xla")}
    if not runs["keras"] or not runs["xla"]:
        return
    common = sorted({r["seed"] for r in runs["keras"]} & {r["seed"] for r in runs["xla"]})
    if not common:
        return
    seed = common[0]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    colours = {"keras": "tab:red", "xla": "tab:blue"}
    for w, rows in runs.items():
        r = next(r for r in rows if r["seed"] == seed)
        h = r["history"]
        ep = range(1, len(h["loss"]) + 1)
        for ax, key in zip(axes, ("loss", "accuracy")):
            ax.plot(ep, h[key], color=colours[w], label=f"{WHO[w]} train")
            ax.plot(ep, h["val_" + key], color=colours[w], linestyle="--", label=f"{WHO[w]} validation")
            ax.axvline(r["best_epoch"], color=colours[w], linestyle=":", linewidth=1)
    for ax, key in zip(axes, ("loss", "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    title = {"exercise2": "Exercise 2", "lab3": "Lab 3"}[lab]
    fig.suptitle(f"{title}, seed {seed}: Keras 3 on TensorFlow 2.20 vs cifarlab (XLA); dotted: best epoch")
    fig.tight_layout()
    path = os.path.join(png_dir, f"curves-{lab}.png")
    fig.savefig(path, dpi=100)
    print(f"curves: {path}")


def speed(out):
    path = os.path.join(out, "speed.txt")
    if not os.path.exists(path):
        return
    rows, info = {}, {}
    for line in open(path):
        if " " not in line:
            continue
        who, js = line.split(" ", 1)
        d = json.loads(js)
        if d["what"] == "info":
            info[who] = d
        elif d["what"] in ("step", "epoch"):
            value = d["ms_per_step"] if d["what"] == "step" else d["s_per_epoch"]
            rows.setdefault((d["model"], d["what"], who), []).append(value)
    # Real training epochs from the runs above (epoch 1 includes tracing/compilation: left out).
    for lab in ("exercise2", "lab3"):
        for w in WHO:
            secs = [s for r in load(os.path.join(out, f"{lab}-{w}.jsonl")) for s in r["history"]["seconds"][1:]]
            if secs:
                rows[(lab, "training epoch", w)] = secs
    if not rows:
        return
    print("## Speed (same machine, Keras and cifarlab alternating)\n")
    for who, d in info.items():
        if "tensorflow" in d:
            print(f"- {who}: TensorFlow {d['tensorflow']}, Keras {d['keras']}, intra-op threads {d['intra_op_threads']}, "
                  f"inter-op threads {d['inter_op_threads']} (0 = TensorFlow's default, one per core: {d['cpus']}), "
                  f"oneDNN {d['onednn']}")
        else:
            print(f"- {who}: {d.get('backend', '?')} ({d.get('go', '')}, GOMAXPROCS {d.get('gomaxprocs', '?')})")
    print()
    print("| lab | measure | who | median | min–max | n | ratio to Keras |")
    print("|---|---|---|---:|---|---:|---:|")
    order = {"keras": 0, "xla": 1, "go": 2}
    for (model, what, who), vals in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], order.get(kv[0][2], 9))):
        med = statistics.median(vals)
        unit = "ms/step" if what == "step" else "s/epoch"
        ref = rows.get((model, what, "keras"))
        ratio = f"{med / statistics.median(ref):.2f}x" if ref and who != "keras" else ("1" if who == "keras" else "")
        print(f"| {model} | {what} | {WHO.get(who, who)} | {med:.2f} {unit} | {min(vals):.2f}–{max(vals):.2f} | {len(vals)} | {ratio} |")
    print()


def main():
    out = sys.argv[1]
    png_dir = sys.argv[2] if len(sys.argv) > 2 else out
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"date {datetime.date.today()}, {os.cpu_count()} CPUs ({cpu}), load avg {os.getloadavg()[0]:.1f}\n")
    exercise2(out)
    lab3(out)
    issue27(out)
    speed(out)
    for lab in ("exercise2", "lab3"):
        curves(out, png_dir, lab)


if __name__ == "__main__":
    main()
