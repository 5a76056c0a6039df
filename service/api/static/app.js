// mipguide dashboard: one page, hash routes, the REST API with the key the user enters.
// No framework and no external asset: everything here is served by the app itself.
"use strict";

const KEY_STORE = "mipguide.key";
const SOURCE_COLORS = {
  solver: "#1f77b4", gnn: "#d62728", srg: "#9467bd", dmmv: "#ff7f0e", start: "#2ca02c",
  result: "#111111",
};
const SERIES_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
  "#e377c2", "#17becf"];
const STATES = ["queued", "running", "completed", "failed", "cancelled"];
const view = () => document.getElementById("view");
let cleanup = [];  // what the current page stops when the route changes

// ---------- the API ----------
function apiKey() { return sessionStorage.getItem(KEY_STORE) || ""; }
function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: "Bearer " + key } : {};
}
async function apiError(res) {
  let message = res.status + " " + res.statusText;
  try {
    const body = await res.json();
    if (body && body.error) {
      message = body.error.message + (body.error.field ? " (" + body.error.field + ")" : "");
    }
  } catch (e) { /* not JSON */ }
  const err = new Error(message);
  err.status = res.status;
  return err;
}
async function api(path, opts = {}) {
  const res = await fetch(path, { ...opts, headers: { ...authHeaders(), ...(opts.headers || {}) } });
  if (!res.ok) throw await apiError(res);
  return res;
}
async function apiJson(path, opts) { return (await api(path, opts)).json(); }

// Server-sent events over fetch (EventSource cannot send the key header).
async function stream(path, onEvent, signal) {
  const res = await api(path, { signal });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf = (buf + decoder.decode(value, { stream: true })).replace(/\r\n/g, "\n").replace(/\r(?!$)/g, "\n");
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        let v = i < 0 ? "" : line.slice(i + 1);
        if (v.startsWith(" ")) v = v.slice(1);
        if (field === "event") event = v;
        else if (field === "data") data.push(v);
      }
      if (data.length) onEvent(event, JSON.parse(data.join("\n")));
    }
  }
}

// ---------- small helpers ----------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
function showError(err) {
  const box = document.getElementById("error");
  if (!err) { box.hidden = true; box.textContent = ""; return; }
  box.textContent = err.status === 401 ? "API key: " + err.message : String(err.message || err);
  box.hidden = false;
}
function fmt(x, digits = 6) {
  if (x === null || x === undefined) return "";
  if (typeof x !== "number") return String(x);
  return Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : +x.toPrecision(digits) + "";
}
function pct(g) { return g === null || g === undefined ? "" : (100 * g).toFixed(2) + " %"; }
function elapsed(job) {
  if (job.solve_seconds !== null && job.solve_seconds !== undefined) return job.solve_seconds.toFixed(1) + " s";
  if (job.started_at) return ((Date.now() - Date.parse(job.started_at)) / 1000).toFixed(0) + " s";
  return "";
}
function stateBadge(state) { return h("span", { class: "state state-" + state, "data-state": state }, state); }
function relGap(obj, bound) {
  if (obj === null || bound === null || obj === undefined || bound === undefined) return null;
  if (!isFinite(obj) || !isFinite(bound)) return null;
  const d = Math.abs(obj - bound);
  return d <= 1e-9 ? 0 : d / Math.max(Math.abs(obj), Math.abs(bound), 1e-10);
}
function every(ms, fn) {
  const id = setInterval(fn, ms);
  cleanup.push(() => clearInterval(id));
}
async function download(path, filename) {
  const blob = await (await api(path)).blob();
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---------- SVG plots ----------
const SVGNS = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}
function ticks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= step0);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(+v.toPrecision(12));
  return out;
}
// series: [{name, color, points: [[x, y], ...], step, dash, markers: [{x, y, color, title}]}]
let clipCount = 0;
// The y range leaves out each series' first quarter of points when it has 8 or more (the first
// incumbents are often far off and would flatten the rest); what falls outside is clipped.
function yRange(series) {
  const ys = series.flatMap((se) => (se.points.length >= 8 ? se.points.slice(Math.floor(se.points.length / 4)) : se.points)
    .map((p) => p[1]));
  return ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
}
function plot(series, { width = 760, height = 260, xlabel = "seconds", ylabel = "", id } = {}) {
  const m = { l: 70, r: 16, t: 10, b: 36 };
  const svg = s("svg", { class: "plot", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  if (id) svg.setAttribute("id", id);
  const pts = series.flatMap((se) => se.points);
  const xs = pts.map((p) => p[0]);
  let x0 = 0, x1 = Math.max(1, ...xs);
  let [y0, y1] = yRange(series);
  if (y1 - y0 < 1e-12) { const d = Math.max(Math.abs(y0) * 0.05, 1e-6); y0 -= d; y1 += d; }
  const pad = (y1 - y0) * 0.06; y0 -= pad; y1 += pad;
  const X = (x) => m.l + ((x - x0) / (x1 - x0)) * (width - m.l - m.r);
  const Y = (y) => height - m.b - ((y - y0) / (y1 - y0)) * (height - m.t - m.b);
  for (const t of ticks(x0, x1, 8)) {
    svg.append(s("line", { class: "gridline", x1: X(t), x2: X(t), y1: m.t, y2: height - m.b }));
    svg.append(s("text", { x: X(t), y: height - m.b + 14, "text-anchor": "middle" }, fmt(t, 4)));
  }
  for (const t of ticks(y0, y1, 5)) {
    svg.append(s("line", { class: "gridline", x1: m.l, x2: width - m.r, y1: Y(t), y2: Y(t) }));
    svg.append(s("text", { x: m.l - 6, y: Y(t) + 4, "text-anchor": "end" }, fmt(t, 5)));
  }
  svg.append(s("line", { class: "axis", x1: m.l, x2: width - m.r, y1: height - m.b, y2: height - m.b }));
  svg.append(s("line", { class: "axis", x1: m.l, x2: m.l, y1: m.t, y2: height - m.b }));
  svg.append(s("text", { x: (m.l + width - m.r) / 2, y: height - 4, "text-anchor": "middle" }, xlabel));
  svg.append(s("text", { x: 12, y: (m.t + height - m.b) / 2, "text-anchor": "middle",
    transform: `rotate(-90 12 ${(m.t + height - m.b) / 2})` }, ylabel));
  const clip = "plot-clip-" + ++clipCount;
  const cp = s("clipPath", { id: clip });
  cp.append(s("rect", { x: m.l, y: m.t - 4, width: width - m.l - m.r + 4, height: height - m.t - m.b + 4 }));
  svg.append(cp);
  for (const se of series) {
    if (!se.points.length) continue;
    let d = "";
    se.points.forEach(([x, y], i) => {
      if (i === 0) d += `M${X(x)},${Y(y)}`;
      else d += se.step ? `H${X(x)}V${Y(y)}` : `L${X(x)},${Y(y)}`;
    });
    const path = s("path", { d, fill: "none", stroke: se.color, "stroke-width": 1.6,
      "data-series": se.name, "clip-path": `url(#${clip})` });
    if (se.dash) path.setAttribute("stroke-dasharray", "5 4");
    svg.append(path);
    for (const mk of se.markers || []) {
      const c = s("circle", { class: "inc", cx: X(mk.x), cy: Math.min(Math.max(Y(mk.y), m.t - 2), height - m.b + 2),
        r: 3.5, fill: mk.color });
      c.append(s("title", {}, mk.title));
      svg.append(c);
    }
  }
  return svg;
}
function legend(items) {
  // colours set through the CSSOM: the page's CSP allows no inline style attribute
  return h("div", { class: "legend" }, items.map(([name, color]) => {
    const swatch = h("i");
    swatch.style.background = color;
    return h("span", {}, swatch, name);
  }));
}

// ---------- pages ----------
async function jobsPage(params) {
  const state = params.get("state") || "";
  const tag = params.get("tag") || "";
  const stateSel = h("select", { id: "filter-state" }, h("option", { value: "" }, "any state"),
    STATES.map((st) => h("option", { value: st, selected: st === state }, st)));
  const tagIn = h("input", { id: "filter-tag", placeholder: "tag", value: tag });
  const apply = () => {
    const q = new URLSearchParams();
    if (stateSel.value) q.set("state", stateSel.value);
    if (tagIn.value.trim()) q.set("tag", tagIn.value.trim());
    location.hash = "#/jobs" + (q.toString() ? "?" + q : "");
  };
  stateSel.addEventListener("change", apply);
  tagIn.addEventListener("change", apply);
  const compareBtn = h("button", { class: "secondary", id: "compare-selected", onclick: () => {
    const ids = [...document.querySelectorAll("input.pick:checked")].map((c) => c.value);
    location.hash = "#/compare?ids=" + ids.join(",");
  } }, "Compare selected");
  const total = h("span", { class: "muted", id: "jobs-total" });
  const body = h("tbody");
  view().append(h("h1", {}, "Jobs"), h("div", { class: "toolbar" }, stateSel, tagIn, compareBtn, total),
    h("table", { id: "jobs" }, h("thead", {}, h("tr", {}, ["", "job", "problem", "kind", "state", "mode",
      "solver", "objective", "gap", "elapsed", "tags"].map((c) => h("th", {}, c)))), body));
  const picked = new Set();
  async function refresh() {
    const q = new URLSearchParams({ limit: "100" });
    if (state) q.set("state", state);
    if (tag) q.set("tag", tag);
    const list = await apiJson("/v1/jobs?" + q);
    total.textContent = list.total + " jobs";
    body.replaceChildren(...list.items.map((j) => h("tr", { "data-job": j.id },
      h("td", {}, h("input", { type: "checkbox", class: "pick", value: j.id, checked: picked.has(j.id),
        onchange: (e) => (e.target.checked ? picked.add(j.id) : picked.delete(j.id)) })),
      h("td", {}, h("a", { href: "#/job/" + j.id }, j.id.slice(0, 12))),
      h("td", {}, j.problem.name),
      h("td", {}, j.kind),
      h("td", {}, stateBadge(j.state)),
      h("td", {}, j.options.mode || (j.kind === "solve" ? "exact" : "")),
      h("td", {}, j.options.solver || ""),
      h("td", { class: "num" }, fmt(j.objective)),
      h("td", { class: "num" }, pct(j.gap)),
      h("td", { class: "num" }, elapsed(j)),
      h("td", {}, j.tags.join(", ")))));
    showError(null);
  }
  await refresh();
  every(2000, () => refresh().catch(showError));
}

function progressPlots(job, incs) {
  // incumbents (+ the verified result once ended) as step series, markers by source
  const pts = incs.map((i) => ({ t: i.t, obj: i.objective, bound: i.bound, source: i.source }));
  if (["completed", "cancelled"].includes(job.state) && job.objective !== null && job.solve_seconds !== null) {
    pts.push({ t: Math.max(job.solve_seconds, pts.length ? pts[pts.length - 1].t : 0),
      obj: job.objective, bound: job.bound, source: "result" });
  }
  const solve = job.kind === "solve";
  const objective = { name: solve ? "objective" : "max violation", color: "#333", step: true,
    points: pts.map((p) => [p.t, p.obj]),
    markers: pts.map((p) => ({ x: p.t, y: p.obj, color: SOURCE_COLORS[p.source] || "#7f7f7f",
      title: `${p.source} at ${p.t.toFixed(2)} s: ${p.obj}` })) };
  const out = [];
  if (!solve) {
    out.push(plot([objective], { ylabel: "max violation", id: "plot" }));
    return out;
  }
  const known = pts.filter((p) => p.bound !== null && p.bound !== undefined && isFinite(p.bound));
  const bound = { name: "dual bound", color: "#2ca02c", step: true, dash: true,
    points: known.map((p) => [p.t, p.bound]) };
  out.push(plot([objective, bound], { ylabel: "objective", id: "plot" }));
  const gaps = pts.map((p) => [p.t, relGap(p.obj, p.bound)]).filter((g) => g[1] !== null);
  out.push(plot([{ name: "gap", color: "#d62728", step: true, points: gaps.map(([t, g]) => [t, 100 * g]) }],
    { ylabel: "gap (%)", height: 180, id: "gap-plot" }));
  return out;
}

async function jobPage(id) {
  let job = await apiJson("/v1/jobs/" + encodeURIComponent(id));
  const incs = [];
  const head = h("div");
  const plots = h("div", { id: "plots" });
  const incTable = h("tbody");
  const log = h("pre", { id: "log" });
  const cancelBtn = h("button", { id: "cancel", class: "secondary", onclick: async () => {
    cancelBtn.disabled = true;
    try { job = await apiJson("/v1/jobs/" + id, { method: "DELETE" }); render(); } catch (e) { showError(e); }
  } }, "Cancel");
  const formats = job.kind === "solve" ? ["json", "sol", "csv"] : ["json"];
  const downloads = h("div", { class: "downloads", id: "downloads" }, "Result: ", formats.map((f) =>
    h("a", { href: "#", "data-format": f, onclick: (e) => {
      e.preventDefault();
      download(`/v1/jobs/${id}/result?format=${f}`, `${id}.${f}`).catch(showError);
    } }, f)),
  h("a", { href: "#", "data-format": "png", onclick: (e) => {
    e.preventDefault();
    download(`/v1/jobs/${id}/plot.png`, `${id}.png`).catch(showError);
  } }, "plot.png"));
  const options = h("pre", { id: "options" });
  const result = h("pre", { id: "result" });
  view().append(head, plots, h("h2", {}, "Incumbents"),
    h("table", { id: "incumbents" }, h("thead", {}, h("tr", {}, ["#", "t (s)", "objective", "bound", "source"]
      .map((c) => h("th", {}, c)))), incTable),
    h("h2", {}, "Log"), log, h("h2", {}, "Options"), options, h("h2", {}, "Result"), downloads, result);

  function render() {
    const legendItems = [["objective", "#333"], ["dual bound", "#2ca02c"]].concat(
      [...new Set(incs.map((i) => i.source))].map((src) => [src, SOURCE_COLORS[src] || "#7f7f7f"]));
    head.replaceChildren(h("h1", {}, (job.problem.name || job.problem.filename) + " ", stateBadge(job.state)),
      h("div", { class: "grid" },
        [["job", job.id], ["kind", job.kind], ["mode", job.options.mode || "exact"],
          ["solver", job.options.solver || ""], ["objective", fmt(job.objective)],
          ["bound", fmt(job.bound)], ["gap", pct(job.gap)], ["status", job.status || ""],
          ["elapsed", elapsed(job)], ["batch", job.batch_id || ""], ["tags", job.tags.join(", ")],
          ["size", `${job.problem.num_vars} vars, ${job.problem.num_rows} rows`]]
          .map(([k, v]) => h("div", { "data-field": k }, h("span", {}, k), v))),
      h("p", { class: "muted", hidden: !job.error }, "error: " + (job.error || "")),
      h("div", { class: "toolbar" }, cancelBtn, h("a", { href: "#/compare?ids=" + job.id }, "compare with...")),
      legend(legendItems));
    cancelBtn.disabled = ["completed", "failed", "cancelled"].includes(job.state);
    plots.replaceChildren(...progressPlots(job, incs));
    incTable.replaceChildren(...incs.slice(-200).map((i) => h("tr", {}, h("td", {}, i.seq),
      h("td", { class: "num" }, i.t.toFixed(2)), h("td", { class: "num" }, fmt(i.objective, 10)),
      h("td", { class: "num" }, fmt(i.bound, 10)), h("td", {}, i.source))));
    options.textContent = JSON.stringify(job.options, null, 2);
  }
  render();

  const ctl = new AbortController();
  cleanup.push(() => ctl.abort());
  let ended = false;
  const seen = new Set();
  async function finish() {
    job = await apiJson("/v1/jobs/" + id);
    render();
    if (["completed", "cancelled"].includes(job.state)) {
      try {
        const r = await apiJson(`/v1/jobs/${id}/result`);
        const { values, ...summary } = r;
        result.textContent = JSON.stringify(summary, null, 2);
      } catch (e) { result.textContent = e.message; }
    }
  }
  stream(`/v1/jobs/${id}/events`, (event, data) => {
    if (event === "incumbent" && !seen.has(data.seq)) {
      seen.add(data.seq);
      incs.push(data);
      render();
    } else if (event === "state") {
      job.state = data.state;
      render();
    } else if (event === "end") {
      ended = true;
      finish().catch(showError);
    }
  }, ctl.signal).catch((e) => { if (e.name !== "AbortError") showError(e); });

  let offset = 0;
  async function pollLog() {
    const res = await api(`/v1/jobs/${id}/log?offset=${offset}`);
    const text = await res.text();
    offset = +(res.headers.get("X-Next-Offset") || offset);
    if (text) log.textContent = (log.textContent + text).slice(-20000);
    return res.headers.get("X-Job-State");
  }
  await pollLog().catch(showError);
  every(1000, async () => {
    if (ended && ["completed", "failed", "cancelled"].includes(job.state)) return;
    job = { ...job, ...(await apiJson("/v1/jobs/" + id).catch(() => ({}))) };
    if (job.state !== "running") render();
    await pollLog().catch(() => {});
  });
  if (["completed", "failed", "cancelled"].includes(job.state)) finish().catch(showError);
}

async function submitPage() {
  let models = [];
  try { models = (await apiJson("/v1/models")).items; } catch (e) { showError(e); }
  const field = (label, input) => [h("label", { for: input.id }, label), input];
  const file = h("input", { id: "file", type: "file", multiple: true, required: true });
  const solver = h("select", { id: "solver" }, ["", "auto", "scip", "highs", "cpsat", "ortools-scip",
    "ortools-highs"].map((v) => h("option", { value: v }, v || "server default")));
  const mode = h("select", { id: "mode" }, ["exact", "auto", "pas", "srg"].map((v) => h("option", { value: v }, v)));
  const model = h("select", { id: "model" }, h("option", { value: "" }, "best match"),
    models.map((mm) => h("option", { value: mm.ref }, `${mm.ref} (${mm.kind})`)));
  const limit = h("input", { id: "time_limit", type: "number", min: "0", step: "any", value: "60" });
  const gap = h("input", { id: "gap", type: "number", min: "0", step: "any", placeholder: "solver default" });
  const tags = h("input", { id: "tags", placeholder: "comma-separated" });
  const go = h("button", { type: "submit", id: "submit" }, "Submit");
  const form = h("form", { class: "submit", id: "submit-form" },
    field("Model file(s)", file), field("Solver", solver), field("Mode", mode), field("Model", model),
    field("Time limit (s)", limit), field("Gap", gap), field("Tags", tags), h("span"), go);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fd = new FormData();
    for (const f of file.files) fd.append("file", f, f.name);
    if (solver.value) fd.append("solver", solver.value);
    fd.append("mode", mode.value);
    if (model.value && mode.value !== "exact") fd.append("model", model.value);
    if (limit.value) fd.append("time_limit", limit.value);
    if (gap.value) fd.append("gap", gap.value);
    if (tags.value.trim()) fd.append("tags", tags.value.trim());
    go.disabled = true;
    try {
      if (file.files.length > 1) {
        const batch = await apiJson("/v1/batches", { method: "POST", body: fd });
        location.hash = "#/batch/" + batch.id;
      } else {
        const job = await apiJson("/v1/jobs", { method: "POST", body: fd });
        location.hash = "#/job/" + job.id;
      }
      showError(null);
    } catch (err) { showError(err); go.disabled = false; }
  });
  view().append(h("h1", {}, "Submit"), h("p", { class: "muted" },
    "MPS, LP or JSON models (gzip, bz2, xz too); several files make a batch."), form);
}

async function batchPage(id) {
  const head = h("div");
  const body = h("tbody");
  view().append(head, h("table", { id: "batch-jobs" }, h("thead", {}, h("tr", {},
    ["job", "problem", "state", "objective", "gap", "elapsed"].map((c) => h("th", {}, c)))), body));
  async function refresh() {
    const b = await apiJson("/v1/batches/" + encodeURIComponent(id));
    head.replaceChildren(h("h1", {}, "Batch " + b.id.slice(0, 12)), h("div", { class: "grid", id: "counts" },
      STATES.map((st) => h("div", { "data-state": st }, h("span", {}, st), b.counts[st] || 0)),
      h("div", {}, h("span", {}, "total"), b.total)),
      h("p", {}, h("a", { href: "#/compare?ids=" + b.job_ids.slice(0, 8).join(",") }, "compare these jobs")));
    const jobs = await Promise.all(b.job_ids.slice(0, 200).map((j) => apiJson("/v1/jobs/" + j)));
    body.replaceChildren(...jobs.map((j) => h("tr", {}, h("td", {}, h("a", { href: "#/job/" + j.id }, j.id.slice(0, 12))),
      h("td", {}, j.problem.name), h("td", {}, stateBadge(j.state)), h("td", { class: "num" }, fmt(j.objective)),
      h("td", { class: "num" }, pct(j.gap)), h("td", { class: "num" }, elapsed(j)))));
    return b.done;
  }
  if (!(await refresh())) {
    every(2000, () => refresh().catch(showError));
  }
}

async function comparePage(params) {
  const ids = (params.get("ids") || "").split(",").map((x) => x.trim()).filter(Boolean);
  const input = h("input", { id: "compare-ids", size: 60, value: ids.join(","), placeholder: "job ids, comma-separated" });
  const form = h("form", { class: "toolbar" }, input, h("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (e) => { e.preventDefault(); location.hash = "#/compare?ids=" + input.value.replace(/\s+/g, ""); });
  const area = h("div", { id: "compare-area" });
  view().append(h("h1", {}, "Compare"), form, area);
  if (!ids.length) { area.append(h("p", { class: "muted" }, "Pick jobs in the job list, or give their ids.")); return; }
  async function draw() {
    const jobs = await Promise.all(ids.map((id) => apiJson("/v1/jobs/" + encodeURIComponent(id))));
    const incs = await Promise.all(ids.map((id) => apiJson(`/v1/jobs/${encodeURIComponent(id)}/incumbents`)));
    const series = jobs.map((job, k) => {
      const pts = incs[k].items.map((i) => [i.t, relGap(i.objective, i.bound)]);
      if (job.gap !== null && job.solve_seconds !== null) pts.push([job.solve_seconds, job.gap]);
      const name = `${job.id.slice(0, 8)} ${job.options.mode || "exact"}/${job.options.solver || ""} ${job.problem.name}`;
      return { name, color: SERIES_COLORS[k % SERIES_COLORS.length], step: true,
        points: pts.filter((p) => p[1] !== null).map(([t, g]) => [t, 100 * g]) };
    });
    const objSeries = jobs.map((job, k) => {
      const pts = incs[k].items.map((i) => [i.t, i.objective]);
      if (job.objective !== null && job.solve_seconds !== null) pts.push([job.solve_seconds, job.objective]);
      return { name: series[k].name, color: series[k].color, step: true, points: pts };
    });
    area.replaceChildren(legend(series.map((se) => [se.name, se.color])),
      h("h2", {}, "Gap over time"), plot(series, { ylabel: "gap (%)", id: "compare-plot" }),
      h("h2", {}, "Objective over time"), plot(objSeries, { ylabel: "objective", id: "compare-objective" }),
      h("table", { id: "compare-table" }, h("thead", {}, h("tr", {}, ["job", "mode", "solver", "state",
        "objective", "gap", "elapsed"].map((c) => h("th", {}, c)))), h("tbody", {}, jobs.map((j) =>
        h("tr", {}, h("td", {}, h("a", { href: "#/job/" + j.id }, j.id.slice(0, 12))), h("td", {}, j.options.mode || "exact"),
          h("td", {}, j.options.solver || ""), h("td", {}, stateBadge(j.state)), h("td", { class: "num" }, fmt(j.objective)),
          h("td", { class: "num" }, pct(j.gap)), h("td", { class: "num" }, elapsed(j)))))));
    return jobs.every((j) => ["completed", "failed", "cancelled"].includes(j.state));
  }
  if (!(await draw())) every(2000, () => draw().catch(showError));
}

async function modelsPage() {
  const list = await apiJson("/v1/models");
  const card = h("pre", { id: "model-card", hidden: true });
  view().append(h("h1", {}, "Models"), h("table", { id: "models" }, h("thead", {}, h("tr", {},
    ["model", "kind", "family", "source", "registry", "training instances", "metrics"].map((c) => h("th", {}, c)))),
  h("tbody", {}, list.items.map((mm) => h("tr", {}, h("td", {}, h("a", { href: "#", onclick: async (e) => {
    e.preventDefault();
    const full = await apiJson("/v1/models/" + encodeURIComponent(mm.ref)).catch(showError);
    if (full) { card.hidden = false; card.textContent = JSON.stringify(full.card || full, null, 2); }
  } }, mm.ref)), h("td", {}, mm.kind), h("td", {}, mm.family || ""), h("td", {}, mm.source),
  h("td", {}, mm.registry), h("td", { class: "num" }, mm.train_instances),
  h("td", {}, Object.entries(mm.metrics || {}).map(([k, v]) => `${k} ${fmt(v, 4)}`).join(", ")))))),
  h("h2", {}, "Card"), card);
}

// ---------- routing ----------
async function route() {
  for (const stop of cleanup) stop();
  cleanup = [];
  view().replaceChildren();
  showError(null);
  const hash = location.hash.slice(1) || "/jobs";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  for (const a of document.querySelectorAll("nav a[data-nav]")) {
    a.classList.toggle("active", a.dataset.nav === parts[0]);
  }
  try {
    if (parts[0] === "job" && parts[1]) await jobPage(parts[1]);
    else if (parts[0] === "batch" && parts[1]) await batchPage(parts[1]);
    else if (parts[0] === "submit") await submitPage();
    else if (parts[0] === "compare") await comparePage(params);
    else if (parts[0] === "models") await modelsPage();
    else await jobsPage(params);
  } catch (e) { showError(e); }
}

function initKey() {
  const input = document.getElementById("key");
  const state = document.getElementById("key-state");
  const show = () => { state.textContent = apiKey() ? "key set" : ""; };
  input.value = apiKey();
  show();
  document.getElementById("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.value) sessionStorage.setItem(KEY_STORE, input.value);
    else sessionStorage.removeItem(KEY_STORE);
    show();
    route();
  });
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => { initKey(); route(); });
