"""Per-family table of the protocol runs (README).

python docs/pas_bench/hard/summarize.py METHODS [DIR with F.csv, the results.csv of `bench guided` per family]
"""
import csv, sys, os, statistics as st
fams = [("setcover","set cover"),("cauction","auctions"),("indset","independent set"),("facility","facility location")]
methods = sys.argv[1].split(",")
root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
print("| family (hard, 5 seeds) | method | mean primal gap at 60 s | mean primal integral | integral / SCIP's | mean time to first | reached 1 % | final vs SCIP (better/equal/worse) | proven optimal |")
print("|---|---|---|---|---|---|---|---|---|")
tot = {}
for key, name in fams:
    rows = list(csv.DictReader(open(f"{root}/{key}.csv")))
    by = {}
    for r in rows: by.setdefault(r["method"], {})[r["instance"]] = r
    scip = by["scip"]; si = st.mean(float(r["primal_integral"]) for r in scip.values())
    for m in methods:
        if m not in by: continue
        rs = list(by[m].values())
        integ = st.mean(float(r["primal_integral"]) for r in rs)
        firsts = [float(r["time_to_first"]) for r in rs if r["time_to_first"]]
        sense = -1 if key == "cauction" or key == "indset" else 1
        b=e=w=0
        for inst, r in by[m].items():
            a = float(r["objective"]) if r["objective"] else None; s = float(scip[inst]["objective"]) if scip[inst]["objective"] else None
            if a is None: w+=1; continue
            if s is None: b+=1; continue
            d = sense*(a-s)
            if abs(a-s) <= 1e-6*max(1,abs(s)): e+=1
            elif d < 0: b+=1
            else: w+=1
        t = tot.setdefault(m,[0,0,0]); t[0]+=b; t[1]+=e; t[2]+=w
        cmp = "-" if m=="scip" else f"{b}/{e}/{w}"
        ft = f"{st.mean(firsts):.2f} s" if firsts else "none"
        print(f"| {name} | {m} | {st.mean(float(r['primal_gap']) for r in rs):.4f} | {integ:.4f} | {integ/si:.2f} | {ft} ({len(firsts)}) | {sum(1 for r in rs if r['time_to_1pct'])}/{len(rs)} | {cmp} | {sum(r['proven_optimal']=='True' for r in rs)} |")
print()
for m,(b,e,w) in tot.items():
    if m!="scip": print(f"- {m}: final objective vs plain SCIP over all instances: {b} better, {e} equal, {w} worse")
