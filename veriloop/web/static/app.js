// veriloop ui: runs list, evolve / bench / design views. Plain JS and SVG; the JSON comes from /api.
"use strict";

const view = document.getElementById("view");
const crumb = document.getElementById("crumb");
const liveBadge = document.getElementById("live");
let poller = null;      // the current view's refresh timer
let routeToken = 0;     // bumps on every navigation, so a late response never draws over a newer view

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                                   "'": "&#39;"}[c]));
}
function num(v, digits = 4) {
  if (v === null || v === undefined || v === "") return "–";
  if (typeof v !== "number") return esc(v);
  return Number.isInteger(v) ? String(v) : v.toPrecision(digits);
}
function pct(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%"; }
function usd(v) { return v === null || v === undefined ? "–" : "$" + Number(v).toFixed(4); }
function when(ts) { return ts ? new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 19) : ""; }

async function api(path, opts) {
  const r = await fetch(path, Object.assign({credentials: "same-origin"}, opts || {}));
  let body = null;
  try { body = await r.json(); } catch (e) { body = {error: "bad response (" + r.status + ")"}; }
  if (!r.ok) throw new Error((body && body.error) || ("HTTP " + r.status));
  return body;
}

function diffHtml(text) {
  return text.split("\n").map(l => {
    const cls = l.startsWith("+++") || l.startsWith("---") ? "hunk" : l.startsWith("@@") ? "hunk"
      : l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : "";
    return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l);
  }).join("\n");
}

function stopPolling() { if (poller) { clearInterval(poller); poller = null; } liveBadge.hidden = true; }

// Poll the run's cheap status; call `changed` when its progress or notes move. Stops when it ends.
function watch(runId, first, changed) {
  let last = JSON.stringify([first.done, first.notes, first.state, first.answering]);
  const live = s => s.state === "running" || s.answering;
  if (poller) { clearInterval(poller); poller = null; }
  liveBadge.hidden = !live(first);
  if (!live(first)) return;
  const token = routeToken;
  poller = setInterval(async () => {
    if (token !== routeToken) return;
    try {
      const s = await api(`/api/runs/${encodeURIComponent(runId)}/status`);
      const key = JSON.stringify([s.done, s.notes, s.state, s.answering]);
      if (key !== last && (await changed(s)) !== false) last = key;  // false: not taken yet, ask again
      if (!live(s)) { stopPolling(); }
    } catch (e) { /* transient: the next tick retries */ }
  }, 1500);
}

// ------------------------------------------------------------------------------------- routing
let shown = "";         // "evolve/<id>" while an evolve run is drawn: opening a program keeps the view

function route() {
  const parts = (location.hash.replace(/^#\/?/, "") || "").split("/").map(decodeURIComponent);
  const [kind, id, sub, subId] = parts;
  if (kind === "evolve" && shown === "evolve/" + id && sub === "p" && document.getElementById("program")) {
    document.querySelectorAll("#lineage circle.sel").forEach(c => c.classList.remove("sel"));
    const c = document.querySelector(`#lineage circle[data-id="${CSS.escape(subId)}"]`);
    if (c) c.classList.add("sel");
    showProgram(id, subId).catch(e => {
      document.getElementById("program").innerHTML = `<p class="error">${esc(e.message)}</p>`;
    });
    return;
  }
  shown = kind === "evolve" ? "evolve/" + id : "";
  stopPolling();
  routeToken++;
  const run = {evolve: showEvolve, bench: showBench, design: showDesign, compare: showCompare}[kind];
  const p = run ? run(id, sub, subId) : showRuns();
  p.catch(e => { view.innerHTML = `<p class="error" id="error">${esc(e.message)}</p>`; });
}
window.addEventListener("hashchange", route);

// ------------------------------------------------------------------------------------- runs list
const filters = {kind: "", state: "", text: ""};

async function showRuns() {
  crumb.textContent = "runs";
  const token = routeToken;
  view.innerHTML = `<div class="filters">
    <label>kind <select id="f-kind"><option value="">all</option><option>evolve</option><option>bench</option>
      <option>design</option></select></label>
    <label>state <select id="f-state"><option value="">all</option><option>running</option><option>done</option>
      <option>killed</option><option>error</option><option>interrupted</option><option>not verified</option>
      </select></label>
    <input id="f-text" placeholder="filter id / title / problem" size="30">
    <span class="muted" id="runs-count"></span></div><div id="runs-table">loading…</div>`;
  const kindSel = document.getElementById("f-kind"), stateSel = document.getElementById("f-state");
  const text = document.getElementById("f-text");
  kindSel.value = filters.kind; stateSel.value = filters.state; text.value = filters.text;
  let runs = [];
  const draw = () => {
    const t = filters.text.toLowerCase();
    const rows = runs.filter(r => (!filters.kind || r.kind === filters.kind)
      && (!filters.state || r.state === filters.state)
      && (!t || [r.id, r.title, r.problem].join(" ").toLowerCase().includes(t)));
    document.getElementById("runs-count").textContent = `${rows.length} of ${runs.length} runs`;
    document.getElementById("runs-table").innerHTML = rows.length === 0 ? "<p class='muted'>No runs.</p>" :
      `<table id="runs"><tr><th>id</th><th>kind</th><th>title</th><th>state</th><th>progress</th>
       <th>best / pass rate</th><th>spend</th><th>started</th></tr>` + rows.map(r => {
        const prog = r.total ? `${r.done ?? 0} / ${r.total}` : (r.done ?? "–");
        const best = r.kind === "bench" && r.pass_rate !== null && r.pass_rate !== undefined
          ? pct(r.pass_rate) + " pass" : (r.kind === "design" ? (r.verified === true ? "verified"
          : r.verified === false ? "not verified" : "–") : num(r.best));
        return `<tr class="click" data-href="#/${r.kind}/${encodeURIComponent(r.id)}" data-run="${esc(r.id)}">
          <td><a href="#/${r.kind}/${encodeURIComponent(r.id)}">${esc(r.id)}</a></td><td>${r.kind}</td>
          <td>${esc(r.title)}</td><td class="state-${esc(r.state)}">${esc(r.state)}</td><td class="num">${prog}</td>
          <td class="num">${best}</td><td class="num">${usd(r.spend)}</td><td>${esc(r.created)}</td></tr>`;
      }).join("") + "</table>";
  };
  kindSel.onchange = () => { filters.kind = kindSel.value; draw(); };
  stateSel.onchange = () => { filters.state = stateSel.value; draw(); };
  text.oninput = () => { filters.text = text.value; draw(); };
  document.getElementById("runs-table").onclick = ev => {
    const tr = ev.target.closest("tr[data-href]");
    if (tr && ev.target.tagName !== "A") location.hash = tr.dataset.href;
  };
  const load = async () => {
    const fresh = await api("/api/runs");
    if (token !== routeToken) return;
    runs = fresh; draw();
    liveBadge.hidden = !runs.some(r => r.state === "running");
  };
  await load();
  poller = setInterval(() => { load().catch(() => {}); }, 3000);
}

// ------------------------------------------------------------------------------------- evolve
const ISLAND_COLORS = ["#2456c7", "#d9480f", "#2b8a3e", "#862e9c", "#0b7285", "#c2255c", "#5c940d", "#e67700"];

function scoreColor(t) { // 0..1 -> a blue-to-yellow ramp
  const a = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.max(0, Math.min(1, t)) * (a.length - 1), i = Math.min(a.length - 2, Math.floor(x)), f = x - i;
  const c = a[i].map((v, k) => Math.round(v + f * (a[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function scoreChart(progs, F) {
  const W = 600, H = 220, L = 48, B = 24;
  const pts = progs.filter(p => p[F.score] !== null && p[F.status] === "ok");
  if (!pts.length) return "<p class='muted'>No scored programs yet.</p>";
  const maxIt = Math.max(1, ...progs.map(p => p[F.iteration]));
  let lo = Math.min(...pts.map(p => p[F.score])), hi = Math.max(...pts.map(p => p[F.score]));
  if (hi <= lo) { hi = lo + 1e-9 + Math.abs(lo) * 0.01; }
  const X = it => L + (W - L - 8) * it / maxIt, Y = s => 8 + (H - B - 8) * (1 - (s - lo) / (hi - lo));
  const islands = [...new Set(progs.map(p => p[F.island]))].sort((a, b) => a - b);
  let dots = "", lines = "";
  const r = pts.length > 2000 ? 1.2 : 3;
  for (const p of pts) dots += `<circle cx="${X(p[F.iteration]).toFixed(1)}" cy="${Y(p[F.score]).toFixed(1)}" r="${r}"
    fill="${ISLAND_COLORS[p[F.island] % 8]}" opacity="0.5"/>`;
  for (const isl of islands) {
    let best = null, d = "";
    for (const p of pts) {
      if (p[F.island] !== isl) continue;
      if (best === null || p[F.score] > best) {
        const x = X(p[F.iteration]).toFixed(1);
        d += best === null ? `M${x},${Y(p[F.score]).toFixed(1)}` : `H${x}V${Y(p[F.score]).toFixed(1)}`;
        best = p[F.score];
      }
    }
    if (d) lines += `<path d="${d}H${X(maxIt).toFixed(1)}" fill="none" stroke="${ISLAND_COLORS[isl % 8]}"
      stroke-width="1.6" data-island="${isl}"/>`;
  }
  const legend = islands.map(i => `<tspan fill="${ISLAND_COLORS[i % 8]}">■ island ${i} </tspan>`).join("");
  return `<svg id="score-chart" viewBox="0 0 ${W} ${H}" style="height:${H}px">
    <line x1="${L}" y1="${H - B}" x2="${W}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="0" x2="${L}"
    y2="${H - B}" stroke="#999"/>
    <text x="${L - 4}" y="12" text-anchor="end">${num(hi)}</text><text x="${L - 4}" y="${H - B}"
    text-anchor="end">${num(lo)}</text><text x="${W - 4}" y="${H - 8}" text-anchor="end">iteration ${maxIt}</text>
    <text x="${L + 4}" y="${H - 8}">${legend}</text>${dots}${lines}</svg>`;
}

// A dendrogram: x = generation, y = leaf order (parents centred over their children).
function lineageLayout(progs, F) {
  const byId = new Map(), kids = new Map(), roots = [];
  for (const p of progs) { byId.set(p[F.id], p); kids.set(p[F.id], []); }
  for (const p of progs) {
    const par = p[F.parent_id];
    if (par && kids.has(par)) kids.get(par).push(p[F.id]); else roots.push(p[F.id]);
  }
  const pos = new Map(); let leaf = 0;
  const depth = new Map();
  // iterative post-order walk (10,000 programs can be deeper than the JS stack)
  const stack = roots.slice().reverse().map(id => [id, 0, false]);
  while (stack.length) {
    const top = stack.pop();
    const [id, d, done] = top;
    if (!done) {
      depth.set(id, d);
      stack.push([id, d, true]);
      const ch = kids.get(id);
      for (let i = ch.length - 1; i >= 0; i--) stack.push([ch[i], d + 1, false]);
    } else {
      const ch = kids.get(id);
      const y = ch.length ? (pos.get(ch[0]).y + pos.get(ch[ch.length - 1]).y) / 2 : leaf++;
      pos.set(id, {x: d, y});
    }
  }
  return {pos, leaves: Math.max(1, leaf), maxDepth: Math.max(0, ...[...depth.values()]), byId};
}

function lineageSvg(progs, F, selected) {
  if (!progs.length) return "<p class='muted'>No programs yet.</p>";
  const {pos, leaves, maxDepth} = lineageLayout(progs, F);
  // generations spread so the whole tree fills the (wide) box at "fit"; zoom in to tell nodes apart
  const DY = 10, DX = Math.max(40, Math.min(2000, (20 + leaves * DY) * 1.6 / Math.max(1, maxDepth)));
  const scored = progs.filter(p => p[F.score] !== null && p[F.status] === "ok").map(p => p[F.score]);
  const lo = scored.length ? Math.min(...scored) : 0, hi = scored.length ? Math.max(...scored) : 1;
  let edges = "", nodes = "";
  for (const p of progs) {
    const a = pos.get(p[F.id]);
    const par = p[F.parent_id] && pos.get(p[F.parent_id]);
    const x = 20 + a.x * DX, y = 10 + a.y * DY;
    if (par) {
      const px = 20 + par.x * DX, py = 10 + par.y * DY;
      edges += `M${px},${py}H${(px + x) / 2}V${y}H${x}`;
    }
    const ok = p[F.status] === "ok" && p[F.score] !== null;
    const fill = ok ? scoreColor(hi > lo ? (p[F.score] - lo) / (hi - lo) : 1) : "#c0392b";
    nodes += `<circle cx="${x}" cy="${y}" r="4" fill="${fill}" data-id="${esc(p[F.id])}"${p[F.id] === selected
      ? ' class="sel"' : ""}><title>#${p[F.iteration]} ${esc(p[F.id])} score ${num(p[F.score])}${p[F.fault]
      ? " fault " + esc(p[F.fault]) : ""}</title></circle>`;
  }
  const w = Math.max(200, 40 + maxDepth * DX), h = Math.max(120, 20 + leaves * DY);  // small trees stay small
  return `<svg id="lineage" viewBox="0 0 ${w} ${h}" data-w="${w}" data-h="${h}" preserveAspectRatio="xMinYMin meet">
    <path d="${edges}" fill="none" stroke="#aab3c2" stroke-width="1"/>${nodes}</svg>`;
}

// Zoom (wheel, around the pointer), pan (drag) and click-to-open on the lineage SVG.
function attachLineage(svg, onPick) {
  if (!svg) return;
  let vb = svg.getAttribute("viewBox").split(" ").map(Number);
  const set = () => svg.setAttribute("viewBox", vb.map(v => v.toFixed(2)).join(" "));
  svg.addEventListener("wheel", ev => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect();
    const s = Math.min(r.width / vb[2], r.height / vb[3]);
    const mx = vb[0] + (ev.clientX - r.left) / s, my = vb[1] + (ev.clientY - r.top) / s;
    const k = ev.deltaY > 0 ? 1.2 : 1 / 1.2;
    vb = [mx - (mx - vb[0]) * k, my - (my - vb[1]) * k, vb[2] * k, vb[3] * k]; set();
  }, {passive: false});
  let drag = null;
  svg.addEventListener("mousedown", ev => { drag = {x: ev.clientX, y: ev.clientY, vb: vb.slice(), moved: false}; });
  window.addEventListener("mousemove", ev => {
    if (!drag) return;
    const r = svg.getBoundingClientRect(), s = Math.min(r.width / vb[2], r.height / vb[3]);
    const dx = (ev.clientX - drag.x) / s, dy = (ev.clientY - drag.y) / s;
    if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
    vb = [drag.vb[0] - dx, drag.vb[1] - dy, vb[2], vb[3]]; set();
  });
  window.addEventListener("mouseup", () => { setTimeout(() => { drag = null; }, 0); });
  svg.addEventListener("click", ev => {
    if (drag && drag.moved) return;
    const c = ev.target.closest("circle[data-id]");
    if (c) onPick(c.dataset.id);
  });
  return {fit: () => { vb = [0, 0, +svg.dataset.w, +svg.dataset.h]; set(); }};
}

function gridSvg(grid, island) {
  const pick = island === "" || !grid.by_island || !grid.by_island[island] ? grid.cells : grid.by_island[island];
  grid = Object.assign({}, grid, {cells: pick});
  if (!grid.cells.length) return "<p class='muted'>No scored programs yet.</p>";
  const n = grid.bins, S = 22, L = 30, H = n * S + 30;
  const scores = grid.cells.map(c => c[3]);
  const lo = Math.min(...scores), hi = Math.max(...scores);
  let cells = "";
  for (const [bx, by, pid, score, count] of grid.cells) {
    cells += `<rect x="${L + bx * S}" y="${(n - 1 - by) * S}" width="${S - 1}" height="${S - 1}"
      fill="${scoreColor(hi > lo ? (score - lo) / (hi - lo) : 1)}" data-id="${esc(pid)}" style="cursor:pointer">
      <title>cell (${bx}, ${by}): ${count} program(s); champion ${esc(pid)} score ${num(score)}</title></rect>`;
  }
  return `<svg id="map-elites" viewBox="0 0 ${L + n * S + 4} ${H}" style="max-width:${L + n * S + 4}px">
    <rect x="${L}" y="0" width="${n * S}" height="${n * S}" fill="#f1f3f6"/>${cells}
    <text x="${L}" y="${n * S + 14}">${esc(grid.dims[0])} →</text>
    <text x="10" y="${n * S}" transform="rotate(-90 10 ${n * S})">${esc(grid.dims[1])} →</text></svg>`;
}

async function showEvolve(id, sub, pid) {
  const token = routeToken;
  crumb.innerHTML = `<a href="#/">runs</a> / evolve / ${esc(id)}`;
  let data = await api(`/api/evolve/${encodeURIComponent(id)}`);
  if (token !== routeToken) return;
  let selected = sub === "p" ? pid : null;
  view.innerHTML = `<div id="evolve-head"></div>
    <div class="grid2"><div class="card"><h3>Score over time (best so far per island)</h3><div id="chart"></div></div>
    <div class="card"><h3>Lineage <button id="fit" title="show the whole tree">fit</button>
      <span class="legend">wheel: zoom · drag: pan · click a node: open the program</span></h3>
      <div id="tree"></div></div>
    <div class="card"><h3>MAP-Elites grid (champion per cell) <select id="grid-island" title="programs born on
      this island"><option value="">all islands</option></select></h3><div id="grid"></div></div>
    <div class="card"><h3>Steer this run</h3>
      <p class="muted">A note is stored in the run database with its time; the run's next prompts carry the
      latest notes.</p>
      <textarea id="note-text" placeholder="e.g. try a frequency-based eviction score"></textarea>
      <button id="note-send">Send note</button> <span id="note-msg" class="muted"></span>
      <ul class="notes" id="notes"></ul></div></div>
    <div class="card" id="program" style="margin-top:12px"><p class="muted">Click a node of the lineage (or a
      grid cell) to see its program.</p></div>`;
  let lineageCtl = null;
  const drawAll = () => {
    const F = Object.fromEntries(data.fields.map((f, i) => [f, i]));
    const s = data.stats, r = data.run;
    document.getElementById("evolve-head").innerHTML = `<h2>${esc(r.title || r.id)}</h2><div class="kv">
      <span>state <b class="state-${esc(r.state)}" id="evolve-state">${esc(r.state)}</b></span>
      <span>progress <b id="evolve-progress">${s.iterations}${s.planned ? " / " + s.planned : ""} iterations</b></span>
      <span>programs <b id="evolve-programs">${s.programs}</b></span>
      <span>best <b id="evolve-best">${data.best ? num(data.best.score, 6) : "–"}</b></span>
      <span>spend <b>${usd(s.cost_usd)}</b></span><span>tokens <b>${s.prompt_tokens + s.completion_tokens}</b></span>
      <span>by status <b>${esc(Object.entries(s.by_status).map(([k, v]) => k + " " + v).join(", "))}</b></span>
      <span>faults <b>${esc(Object.entries(s.faults).map(([k, v]) => k + " " + v).join(", ") || "none")}</b></span>
      </div>`;
    document.getElementById("chart").innerHTML = scoreChart(data.programs, F);
    document.getElementById("tree").innerHTML = lineageSvg(data.programs, F, selected);
    const gsel = document.getElementById("grid-island");
    for (const isl of Object.keys(data.grid.by_island || {})) {
      if (!gsel.querySelector(`option[value="${isl}"]`)) gsel.insertAdjacentHTML("beforeend",
        `<option value="${isl}">island ${isl}</option>`);
    }
    document.getElementById("grid").innerHTML = gridSvg(data.grid, gsel.value);
    document.getElementById("notes").innerHTML = data.notes.map(n =>
      `<li><span class="muted">${when(n.created)}</span> ${esc(n.text)}</li>`).join("");
    lineageCtl = attachLineage(document.getElementById("lineage"), pick);
    const cur = (location.hash.match(/\/p\/([^/]+)$/) || [])[1];
    if (cur) {
      const c = document.querySelector(`#lineage circle[data-id="${CSS.escape(decodeURIComponent(cur))}"]`);
      if (c) c.classList.add("sel");
    }
  };
  const pick = p => { location.hash = `#/evolve/${encodeURIComponent(id)}/p/${encodeURIComponent(p)}`; };
  drawAll();
  document.getElementById("fit").onclick = () => lineageCtl && lineageCtl.fit();
  document.getElementById("grid-island").onchange = () => {
    document.getElementById("grid").innerHTML = gridSvg(data.grid, document.getElementById("grid-island").value);
  };
  document.getElementById("grid").onclick = ev => {
    const c = ev.target.closest("rect[data-id]"); if (c) pick(c.dataset.id);
  };
  document.getElementById("note-send").onclick = async () => {
    const box = document.getElementById("note-text"), msg = document.getElementById("note-msg");
    const text = box.value.trim();
    if (!text) { msg.textContent = "Type a note first."; return; }
    try {
      await api(`/api/evolve/${encodeURIComponent(id)}/notes`, {method: "POST",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({text})});
      box.value = ""; msg.textContent = "Recorded; the next prompts carry it.";
      data = await api(`/api/evolve/${encodeURIComponent(id)}`); drawAll();
    } catch (e) { msg.textContent = e.message; }
  };
  if (selected) await showProgram(id, selected);
  const first = await api(`/api/runs/${encodeURIComponent(id)}/status`);
  let drawnAt = 0;
  watch(id, first, async s => {
    // a big run redraws at most every 5 s (a redraw of 10,000 nodes takes about half a second)
    if (data.programs.length > 2000 && s.state === "running" && Date.now() - drawnAt < 5000) return false;
    const fresh = await api(`/api/evolve/${encodeURIComponent(id)}`);
    if (token !== routeToken) return;
    data = fresh; drawAll(); drawnAt = Date.now();
  });
}

async function showProgram(runId, pid) {
  const box = document.getElementById("program");
  const p = await api(`/api/evolve/${encodeURIComponent(runId)}/program/${encodeURIComponent(pid)}`);
  const link = q => `<a href="#/evolve/${encodeURIComponent(runId)}/p/${encodeURIComponent(q)}">${esc(q)}</a>`;
  const it = p.iteration_row || {};
  const metrics = Object.entries(p.metrics).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${num(v, 6)}</td>
    </tr>`).join("");
  const arts = Object.entries(p.artifacts).map(([k, v]) => `<h4>${esc(k)}</h4><pre>${esc(v)}</pre>`).join("");
  box.innerHTML = `<h3 id="program-title">Program ${esc(p.id)} (iteration ${p.iteration})</h3><div class="kv">
    <span>score <b id="program-score">${num(p.combined_score, 6)}</b></span>
    <span>parent <b>${p.parent_id ? link(p.parent_id) + " (" + num(p.parent_score, 6) + ")" : "none (seed)"}</b></span>
    <span>island <b>${p.island}</b></span><span>generation <b>${p.generation}</b></span>
    <span>status <b>${esc(p.status)}</b></span><span>fault <b id="program-fault">${esc(p.fault || "none")}</b></span>
    <span>model <b>${esc([p.backend, p.model].filter(Boolean).join(" / ") || "–")}</b></span>
    <span>cost <b>${usd(p.cost)}</b></span>
    <span>tokens <b>${(it.prompt_tokens || 0) + (it.completion_tokens || 0)}</b></span>
    <span>stage reached <b>${p.stage_reached}</b></span>
    <span>children <b>${p.children.map(link).join(", ") || "none"}</b></span></div>
    ${p.error ? `<h4>Error</h4><pre>${esc(p.error)}</pre>` : ""}
    <h4>Diff from parent</h4><pre id="program-diff">${p.parent_diff ? diffHtml(p.parent_diff)
      : "(no parent: this is the seed program)"}</pre>
    <h4>Metrics</h4><table id="program-metrics">${metrics || "<tr><td>none</td></tr>"}</table>
    ${arts ? "<h4>Artifacts</h4>" + arts : ""}
    ${p.edit_text ? `<details><summary>The edit as proposed</summary><pre>${esc(p.edit_text)}</pre></details>` : ""}
    <h4>Code</h4><pre id="program-code">${esc(p.code)}</pre>`;
  box.scrollIntoView({block: "nearest"});
}

// ------------------------------------------------------------------------------------- bench
async function showBench(id, sub) {
  const token = routeToken;
  crumb.innerHTML = `<a href="#/">runs</a> / bench / ${esc(id)}`;
  const d = await api(`/api/bench/${encodeURIComponent(id)}`);
  if (token !== routeToken) return;
  const ks = [...new Set(d.groups.flatMap(g => Object.keys(g.pass_at)))].sort((a, b) => a - b);
  const groups = d.groups.map(g => `<tr><td>${esc(g.backend)}</td><td>${esc(g.config)}</td><td>${esc(g.model)}</td>
    <td>${esc(g.mode)}</td><td class="num">${g.problems}</td><td class="num">${g.samples}</td>
    <td class="num">${pct(g.pass_rate)}</td>${ks.map(k => `<td class="num">${pct(g.pass_at[k])}</td>`).join("")}
    <td class="num">${g.solved}</td><td class="num">${usd(g.cost_usd)}</td>
    <td class="num">${num(g.latency_p50, 3)}</td></tr>`).join("");
  const evo = d.evolve.length ? `<h3>Evolve problems</h3><table><tr><th>problem</th><th>backend</th><th>config</th>
    <th>samples</th><th>mean score</th><th>best</th><th>mean spend</th></tr>` + d.evolve.map(e => `<tr>
    <td>${esc(e.problem)}</td><td>${esc(e.backend)}</td><td>${esc(e.config)}</td><td class="num">${e.samples}</td>
    <td class="num">${num(e.mean_score)}</td><td class="num">${num(e.best_score)}</td>
    <td class="num">${usd(e.mean_cost_usd)}</td></tr>`).join("") + "</table>" : "";
  const rows = d.problems.map(p => `<tr><td>${esc(p)}</td>` + d.columns.map((c, ci) => {
    const ss = (d.cells[p] || {})[c] || [];
    return `<td><div class="samples">${ss.map(s => `<span class="sq ${s.category === "score" ? "s" : s.passed ? "p"
      : "f"}" data-problem="${esc(p)}" data-col="${ci}" data-idx="${s.idx}" title="#${s.idx} ${esc(s.category)}${
      s.score !== null ? " score " + num(s.score) : ""}"></span>`).join("")}</div></td>`;
  }).join("") + "</tr>").join("");
  view.innerHTML = `<h2>${esc(d.run.title || d.run.id)}</h2><div class="kv"><span>state
    <b class="state-${esc(d.run.state)}">${esc(d.run.state)}</b></span><span>${esc(d.sampling)}</span></div>
    <div class="filters" style="margin-top:6px"><label>compare with <select id="compare-with"><option value="">
      another bench run…</option></select></label></div>
    <h3>Backend × configuration</h3><table id="bench-groups"><tr><th>backend</th><th>config</th><th>model</th>
    <th>mode</th><th>problems</th><th>samples</th><th>pass rate</th>${ks.map(k => `<th>pass@${k}</th>`).join("")}
    <th>solved</th><th>spend</th><th>p50 s</th></tr>${groups}</table>${evo}
    <h3>Verdicts per problem <span class="legend">green pass · red fail · click a sample</span></h3>
    <div class="grid2"><div><table id="bench-grid"><tr><th>problem</th>${d.columns.map(c => `<th>${esc(c)}</th>`)
      .join("")}</tr>${rows}</table></div><div class="card" id="sample"><p class="muted">Click a sample to see its
      code, the grader's log and the diff against the reference.</p></div></div>`;
  api("/api/runs?kind=bench").then(others => {
    const sel = document.getElementById("compare-with");
    if (!sel) return;
    for (const o of others) if (o.id !== id) sel.insertAdjacentHTML("beforeend",
      `<option value="${esc(o.id)}">${esc(o.id)} · ${esc(o.title)}</option>`);
    sel.onchange = () => { if (sel.value) location.hash = `#/compare/${encodeURIComponent(id)}/${encodeURIComponent(sel.value)}`; };
  }).catch(() => {});
  document.getElementById("bench-grid").onclick = async ev => {
    const sq = ev.target.closest(".sq[data-problem]");
    if (!sq) return;
    document.querySelectorAll(".sq.sel").forEach(x => x.classList.remove("sel"));
    sq.classList.add("sel");
    const key = d.column_keys[+sq.dataset.col];
    const q = new URLSearchParams({problem: sq.dataset.problem, backend: key.backend, config: key.config,
                                   idx: sq.dataset.idx});
    const box = document.getElementById("sample");
    try {
      const s = await api(`/api/bench/${encodeURIComponent(id)}/sample?${q}`);
      box.innerHTML = `<h3 id="sample-title">${esc(s.problem)} · ${esc(s.backend)} · ${esc(s.config)} #${s.idx}</h3>
        <div class="kv"><span>verdict <b id="sample-verdict" class="${s.passed ? "pass" : "fail"}">${s.passed ? "pass"
        : "fail"} (${esc(s.category)})</b></span>${s.reason ? `<span>${esc(s.reason)}</span>` : ""}
        ${s.first_mismatch ? `<span>first mismatch <b>${esc(s.first_mismatch)}</b></span>` : ""}
        <span>model <b>${esc(s.model || "–")}</b></span><span>mode <b>${esc(s.mode)}</b></span>
        <span>spend <b>${usd(s.cost_usd)}</b></span><span>latency <b>${num(s.latency_s, 3)} s</b></span></div>
        <h4>Grader log (excerpt)</h4><pre id="sample-log">${esc(s.log_excerpt || s.detail || "(empty)")}</pre>
        <h4>Diff against the reference</h4><pre id="sample-diff">${s.diff ? diffHtml(s.diff) : s.has_reference
          ? "(identical to the reference)" : "(no reference solution available)"}</pre>
        <h4>Code</h4><pre id="sample-code">${esc(s.code || "(no code)")}</pre>`;
    } catch (e) { box.innerHTML = `<p class="error">${esc(e.message)}</p>`; }
  };
  const first = await api(`/api/runs/${encodeURIComponent(id)}/status`);
  watch(id, first, async () => { if (token === routeToken) await showBench(id, sub); });
}

// ------------------------------------------------------------------------------------- bench compare
async function showCompare(a, b) {
  const token = routeToken;
  crumb.innerHTML = `<a href="#/">runs</a> / compare / <a href="#/bench/${encodeURIComponent(a)}">${esc(a)}</a> vs
    <a href="#/bench/${encodeURIComponent(b)}">${esc(b)}</a>`;
  const d = await api(`/api/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}`);
  if (token !== routeToken) return;
  const rate = g => g ? pct(g.pass_rate) : "–";
  const pairs = d.pairs.map(p => `<tr><td>${esc(p.a_label)}</td><td>${esc(p.b_label)}</td>
    <td class="num">${rate(p.a)}</td><td class="num">${rate(p.b)}</td>
    <td class="num">${p.pass1_delta === null ? "–" : (p.pass1_delta >= 0 ? "+" : "") + (100 * p.pass1_delta).toFixed(1)
      + " pts"}</td><td class="num">${p.common_problems}</td><td class="num">${p.a ? p.a.solved : "–"} / ${p.b ? p.b.solved
      : "–"}</td><td class="num">${p.a ? usd(p.a.cost_usd) : "–"} / ${p.b ? usd(p.b.cost_usd) : "–"}</td>
    <td>${esc(p.only_a_solved.join(", ") || "–")}</td><td>${esc(p.only_b_solved.join(", ") || "–")}</td></tr>`).join("");
  const squares = (cells, col) => (cells || {})[col] || [];
  const cell = (cells, col) => `<td><div class="samples">${squares(cells, col).map(s => `<span class="sq ${
    s.passed ? "p" : "f"}" title="#${s.idx} ${esc(s.category)}"></span>`).join("")}</div></td>`;
  const rows = d.problems.map(p => `<tr><td>${esc(p)}</td>${d.a_columns.map(c => cell(d.a_cells[p], c)).join("")}
    ${d.b_columns.map(c => cell(d.b_cells[p], c)).join("")}</tr>`).join("");
  view.innerHTML = `<h2>${esc(d.a.title || a)} vs ${esc(d.b.title || b)}</h2>
    <table id="compare-pairs"><tr><th>A group</th><th>B group</th><th>A pass rate</th><th>B pass rate</th>
    <th>pass@1 B − A</th><th>common problems</th><th>solved A / B</th><th>spend A / B</th><th>only A solved</th>
    <th>only B solved</th></tr>${pairs}</table>
    <h3>Verdicts per problem</h3><table id="compare-grid"><tr><th>problem</th>${d.a_columns.map(c =>
      `<th>A: ${esc(c)}</th>`).join("")}${d.b_columns.map(c => `<th>B: ${esc(c)}</th>`).join("")}</tr>${rows}</table>`;
}

// ------------------------------------------------------------------------------------- design
async function showDesign(id) {
  const token = routeToken;
  crumb.innerHTML = `<a href="#/">runs</a> / design / ${esc(id)}`;
  const d = await api(`/api/design/${encodeURIComponent(id)}`);
  if (token !== routeToken) return;
  const steps = d.transcript.map((t, i) => `<details class="step ${esc(t.kind)}"${t.kind === "decision" ? " open"
    : ""}><summary><b>${i + 1}. ${esc(t.agent)}</b> · ${esc(t.kind)} · iteration ${t.iteration ?? 0}
    ${t.model ? " · " + esc(t.model) : ""}${t.tokens ? " · " + t.tokens + " tokens" : ""}
    ${t.usd ? " · " + usd(t.usd) : ""} <span class="muted">${esc(String(t.text || "").split("\n")[0].slice(0, 120))}
    </span></summary><pre>${esc(t.text)}</pre>${(t.citations || []).length ? `<div class="muted">cites
    ${esc(t.citations.join(", "))}</div>` : ""}</details>`).join("");
  const verdicts = d.verdicts.map(v => `<div class="card"><b class="${v.passed ? "pass" : "fail"}">iteration
    ${v.iteration}: ${v.passed ? "PASS" : "FAIL"} (${esc(v.category)})</b> · ${esc(v.mode)} ${esc(v.summary)}
    ${v.mismatches !== null && v.mismatches !== undefined ? `<div>mismatches ${v.mismatches} in ${v.samples}
    samples</div>` : ""}${v.first_mismatch ? `<div>first mismatch ${esc(v.first_mismatch)}</div>` : ""}
    ${(v.hints || []).map(h => `<div>hint: ${esc(h)}</div>`).join("")}
    ${v.equivalence ? `<div>equivalence: ${esc(v.equivalence)}</div>` : ""}
    ${v.counterexample ? `<pre>${esc(v.counterexample)}</pre>` : ""}
    ${v.log_excerpt ? `<details><summary>log excerpt</summary><pre>${esc(v.log_excerpt)}</pre></details>` : ""}
    </div>`).join("");
  const rtl = Object.entries(d.rtl).map(([m, code]) => `<h4>${esc(m)}</h4><pre>${esc(code)}</pre>`).join("");
  view.innerHTML = `<h2>${esc(d.run.title || d.run.id)}</h2><div class="kv"><span>state
    <b class="state-${esc(d.run.state)}">${esc(d.run.state)}</b></span><span>decision <b>${esc(d.decision || "–")}
    </b></span><span>next <b>${esc(d.next.join(", ") || "–")}</b></span>
    <span>output <b>${esc(d.out_dir)}</b></span></div><div id="design-ask"></div>
    <h3>Steps (${d.transcript.length})</h3><div id="design-steps">${steps || "<p class='muted'>none yet</p>"}</div>
    <h3>Verdicts</h3><div id="design-verdicts">${verdicts || "<p class='muted'>none yet</p>"}</div>
    <h3>Final RTL</h3><div id="design-rtl">${rtl || "<p class='muted'>none yet</p>"}</div>
    <h3>Report</h3><pre id="design-report">${esc(d.report_md || (d.report ? JSON.stringify(d.report, null, 2)
      : "(not written yet)"))}</pre>`;
  const first = await api(`/api/runs/${encodeURIComponent(id)}/status`);
  const ask = document.getElementById("design-ask");
  if (first.answering) {
    ask.innerHTML = "<div class='card' id='design-answering'>Your answer was sent; the run is continuing…</div>";
  } else if (d.waiting_for_human) {
    const q = d.pending || {};
    const shown = q.plan ? JSON.stringify(q.plan, null, 2) : q.evidence ? String(q.evidence)
      : q.verdict ? JSON.stringify({verdict: q.verdict, ppa: q.ppa}, null, 2) : "";
    const canStop = q.kind === "approve_plan" || q.kind === "help";  // a final review answers yes or feedback
    ask.innerHTML = `<div class="card" id="design-question"><h3>Waiting for you: ${esc(q.kind || "question")}</h3>
      <p><b>${esc(q.question || "")}</b></p>${shown ? `<pre>${esc(shown)}</pre>` : ""}
      ${first.answer_error ? `<p class="error">${esc(first.answer_error)}</p>` : ""}
      <textarea id="answer-text" placeholder="extra requirements, feedback or a hint (for Send back)"></textarea>
      <button id="answer-approve">Approve</button> <button id="answer-back">Send back</button>
      ${canStop ? '<button id="answer-stop">Stop the run</button>' : ""} <span id="answer-msg" class="muted"></span></div>`;
    const send = async answer => {
      const msg = document.getElementById("answer-msg");
      if (!answer) { msg.textContent = "Type what should change first."; return; }
      try {
        await api(`/api/design/${encodeURIComponent(id)}/answer`, {method: "POST",
          headers: {"Content-Type": "application/json"}, body: JSON.stringify({answer})});
        if (token === routeToken) { stopPolling(); routeToken++; await showDesign(id); }
      } catch (e) { msg.textContent = e.message; }
    };
    document.getElementById("answer-approve").onclick = () => send("yes");
    document.getElementById("answer-back").onclick = () => send(document.getElementById("answer-text").value.trim());
    if (canStop) document.getElementById("answer-stop").onclick = () => send("stop");
  }
  watch(id, first, async () => { if (token === routeToken) await showDesign(id); });
}

route();
