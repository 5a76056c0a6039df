import csv, statistics as st, os
fams=[("setcover","set cover"),("cauction","auctions"),("indset","independent set"),("facility","facility location")]
xfer={"setcover":"srg-indset@1","cauction":"srg-indset@1","indset":"srg-setcover@1","facility":"srg-setcover@1"}
cols=["scip","pas","srg","srg-noguide","srg-k1","srg-topk","srg-indep","xfer"]
print("| family (seeds 2000-2001) | " + " | ".join(["scip","pas","srg","srg-noguide (no guidance)","srg-k1 (K = 1)","srg-topk (PaS-style region)","srg-indep (no graph coupling)","srg, other family's model"]) + " |")
print("|---"*(len(cols)+1)+"|")
for key,name in fams:
    proto={ (r["instance"],r["method"]):r for r in csv.DictReader(open(f"/work/bench/proto-{key}/results.csv"))}
    abl={ (r["instance"],r["method"]):r for r in csv.DictReader(open(f"/work/bench/abl-{key}/results.csv"))} if os.path.exists(f"/work/bench/abl-{key}/results.csv") else {}
    xf={ (r["instance"],"xfer"):r for r in csv.DictReader(open(f"/work/bench/xfer-{key}/results.csv"))} if os.path.exists(f"/work/bench/xfer-{key}/results.csv") else {}
    insts=[f"{key}-hard-2000",f"{key}-hard-2001"]
    cells=[]
    for m in cols:
        src = proto if m in ("scip","pas") else (xf if m=="xfer" else abl)
        rs=[src.get((i,m)) for i in insts]
        if any(r is None for r in rs): cells.append("-"); continue
        integ=st.mean(float(r["primal_integral"]) for r in rs); gap=st.mean(float(r["primal_gap"]) for r in rs)
        cells.append(f"{integ:.4f} / {gap:.4f}")
    cells[-1] += f" ({xfer[key]})" if cells[-1] != "-" else ""
    print(f"| {name} | " + " | ".join(cells) + " |")
