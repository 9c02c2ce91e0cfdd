#!/usr/bin/env python3
"""bench/phases.py [-q] TRACE.txt...: one-run traces of bench/phases.sh (perf script text). For
each (unless -q): per-thread CPU (time on a vCPU), runnable-waiting and sleeping time, and the CPU
and wall of each phase between the uprobes, in ms from the exec; with several traces, the medians
of the phase CPU. The ideal wall time of a run on a quiet machine is the main thread's CPU before
the workers start and after they end plus the longest worker's CPU."""
import re, sys, collections, statistics as st
quiet = sys.argv[1] == '-q'
files = sys.argv[2:] if quiet else sys.argv[1:]
pat = re.compile(r'^\s*(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$')
def one(txt):
    ev = []
    for line in open(txt):
        m = pat.match(line)
        if m: ev.append((float(m[4]), int(m[1]), int(m[2]), m[5], m[6]))
    pid = t0 = None
    for t, pd, tid, e, a in ev:
        if e.endswith('sched_process_exec') and 'csvreg' in a: pid = tid; t0 = t; break
    tids = {pid}
    for t, pd, tid, e, a in ev:
        if e.endswith('sched_wakeup_new') and pd == pid:
            tids.add(int(re.search(r'pid=(\d+)', a)[1]))
    state = {pid: 'on'}; last = {pid: t0}; runs = collections.defaultdict(list)
    wait = collections.Counter(); sleep = collections.Counter(); end = {}; marks = []
    for t, pd, tid, e, a in ev:
        if t < t0: continue
        if e.endswith('sched_switch'):
            m = re.search(r'prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> .*next_pid=(\d+)', a)
            pp, ps, nn = int(m[1]), m[2], int(m[3])
            if pp in tids and state.get(pp) == 'on':
                runs[pp].append((last[pp], t)); last[pp] = t
                state[pp] = 'R' if ps.startswith('R') else 'S'
            if nn in tids:
                s = state.get(nn)
                if s in ('R', 'W'): wait[nn] += t - last.get(nn, t)
                elif s == 'S': sleep[nn] += t - last.get(nn, t)
                last[nn] = t; state[nn] = 'on'
        elif e.endswith('sched_wakeup') or e.endswith('sched_wakeup_new'):
            w = int(re.search(r'pid=(\d+)', a)[1])
            if w in tids and state.get(w) != 'on':
                if state.get(w) == 'S': sleep[w] += t - last.get(w, t)
                last[w] = t; state[w] = 'W'
        elif e.endswith('sched_process_exit') and tid in tids:
            end[tid] = t
            if state.get(tid) == 'on': runs[tid].append((last[tid], t)); state[tid] = 'x'
        if tid in tids and not e.startswith('sched'):
            marks.append((t, tid, e.split(':')[1].replace('_ret__return', '>')))
    def cpu(tid, a, b):
        return sum(max(0.0, min(y, b) - max(x, a)) for x, y in runs[tid])
    tend = max(end.values())
    # phases of the main thread: between consecutive marks of the main thread
    mm = [(t0, 'exec')] + [(t, e) for t, th, e in marks if th == pid] + [(tend, 'exit')]
    ph = collections.OrderedDict()
    for (a, ea), (b, eb) in zip(mm, mm[1:]):
        ph[f"main {ea} .. {eb}"] = (cpu(pid, a, b) * 1e3, (b - a) * 1e3)
    workers = sorted(tids - {pid})
    for k, w in enumerate(workers):
        wm = [(t, e) for t, th, e in marks if th == w]
        start = min(x for x, _ in runs[w]) if runs[w] else t0
        wm = [(start, 'start')] + wm + [(end.get(w, tend), 'exit')]
        for (a, ea), (b, eb) in zip(wm, wm[1:]):
            ph[f"worker{k} {ea} .. {eb}"] = (cpu(w, a, b) * 1e3, (b - a) * 1e3)
    if not quiet:
        print(f"{txt}: exec -> exit {(tend - t0) * 1e3:.1f} ms wall")
        for th in sorted(tids):
            print(f"  tid {th}{' main' if th == pid else ''}: cpu {cpu(th, t0, tend) * 1e3:7.2f} ms, "
                  f"runnable-waiting {wait[th] * 1e3:7.2f}, sleeping {sleep[th] * 1e3:7.2f}")
        for k, (c, w) in ph.items():
            print(f"  {k:55s} cpu {c:8.2f}  wall {w:8.2f}")
    return ph, {th: cpu(th, t0, tend) * 1e3 for th in tids}, pid
res = [one(f) for f in files]
if len(res) > 1:
    print(f"medians over {len(res)} runs, ms (cpu)")
    for k in res[0][0]:
        v = [r[0][k][0] for r in res if k in r[0]]
        print(f"  {k:55s} {st.median(v):8.2f}   (min {min(v):.2f}, max {max(v):.2f})")
