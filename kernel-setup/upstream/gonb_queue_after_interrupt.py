"""Reproducer: GoNB runs the execute requests queued behind an interrupted cell.

Run with the Python of a Jupyter install that has the gonb kernel registered:
    python gonb_queue_after_interrupt.py [kernel-name]   (default: gonb)
It starts the kernel, sends cell 1 (sleeps 60 s) and, at once, cell 2 (prints), as JupyterLab's
Run All does; interrupts the kernel 3 s later; and prints how each request ended.
ipykernel (kernel-name python3, with the cells in Python) answers cell 2 with status "aborted"
and never runs it; GoNB v0.11.4 runs it.
"""
import sys, time
from jupyter_client.manager import start_new_kernel

name = sys.argv[1] if len(sys.argv) > 1 else "gonb"
cells = {
    "gonb": ['%%\ntime.Sleep(60 * time.Second)\nfmt.Println("cell 1 finished")', '%%\nfmt.Println("cell 2 ran")'],
    "python3": ['import time; time.sleep(60); print("cell 1 finished")', 'print("cell 2 ran")'],
}[name]
km, kc = start_new_kernel(kernel_name=name)
try:
    ids = [kc.execute(c) for c in cells]
    time.sleep(3)
    km.interrupt_kernel()
    t0 = time.time()
    status, outputs = {}, {i: [] for i in ids}
    while len(status) < len(ids) and time.time() - t0 < 120:
        msg = kc.get_iopub_msg(timeout=120)
        pid = msg["parent_header"].get("msg_id")
        if msg["msg_type"] == "stream" and pid in outputs:
            outputs[pid].append(msg["content"]["text"].strip())
        while True:
            try:
                r = kc.get_shell_msg(timeout=0.1)
            except Exception:
                break
            status[r["parent_header"]["msg_id"]] = r["content"]["status"]
    t1 = time.time()
    while time.time() - t1 < 5:  # the outputs that come with or after the replies
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Exception:
            continue
        pid = msg["parent_header"].get("msg_id")
        if msg["msg_type"] == "stream" and pid in outputs:
            outputs[pid].append(msg["content"]["text"].strip())
    for n, i in enumerate(ids, 1):
        print(f"cell {n}: status {status.get(i)!r}, stdout {outputs[i]!r}, replies in {time.time() - t0:.1f} s")
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
