"""Prints bench/train/run.sh's table from its results file (one "ROW {json}" line per measurement)."""
import datetime
import json
import os
import statistics
import sys

rows, info, rss = {}, {}, {}
for line in open(sys.argv[1]):
    proc, js = line.split(" ", 1)
    who = proc.removesuffix("-epoch")
    d = json.loads(js)
    if d["what"] == "info":
        info[who] = d
    elif d["what"] == "memory":
        rss.setdefault(proc, []).append(d["peak_rss_mib"])
    else:
        value = d["ms_per_step"] if d["what"] == "step" else d["s_per_epoch"]
        rows.setdefault((d["model"], d["what"], who), []).append(value)

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"date {datetime.date.today()}, {os.cpu_count()} CPUs ({cpu}), load avg {os.getloadavg()[0]:.1f}")
for who, d in info.items():
    if "backend" in d:
        print(f"{who}: {d['backend']} ({d['go']}, GOMAXPROCS {d['gomaxprocs']})")
    else:
        print(f"{who}: torch {d['torch']}, {d['threads']} threads, {d['blas']}, flush denormals {d.get('flush_denormal')}")
print()
print(f"| model | measure | who | median | min–max of rounds | rounds | ratio to torch |")
print(f"|---|---|---|---:|---|---:|---:|")
order = {"xla": 0, "go": 1, "torch": 2, "torch1": 3}
for (model, what, who), vals in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], order.get(kv[0][2], 9))):
    med = statistics.median(vals)
    unit = "ms/step" if what == "step" else "s/epoch"
    ref = rows.get((model, what, "torch"))
    ratio = f"{med / statistics.median(ref):.2f}x" if ref and who != "torch" else ""
    print(f"| {model} | {what} | {who} | {med:.2f} {unit} | {min(vals):.2f}–{max(vals):.2f} | {len(vals)} | {ratio} |")
for proc, vals in sorted(rss.items()):
    what = "one lab 3 epoch" if proc.endswith("-epoch") else "steps"
    print(f"peak RSS of the {proc.removesuffix('-epoch')} process ({what}): {max(vals):.0f} MiB")
