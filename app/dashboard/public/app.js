/* global document, window, location, history, fetch, EventSource, URLSearchParams, prompt, CSS, uPlot */
// The dashboard page: plain JS, no build step. State comes from the JSON API once, then from
// the server's event stream (/api/events), which carries every stream's news and the queues.
(() => {
  'use strict';

  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== undefined && c !== null) e.append(c);
    return e;
  };
  const fmt = (v, digits = 0) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
  const knobText = (k) => `QP ${k.qp}, ${typeof k.resolution === 'number' ? `×${k.resolution}` : k.resolution}, ${k.fps} fps${k.roi ? `, roi +${k.roi}` : ''}`;

  /** Everything the page shows, by stream id. */
  const streams = new Map();
  let selected = new URLSearchParams(location.hash.slice(1)).get('stream');
  /** The selected stream's detail: { id, timeline: Map(seq → point), failures: Map, updates: Map, lambda: Map }. */
  let detail;
  let charts = [];
  let token = null;
  let config = { live: true, bench: false, actions: false };

  async function api(path, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(path, { credentials: 'same-origin', ...init, headers });
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON (an error page); the status says enough
    }
    return { status: res.status, ok: res.ok, body };
  }

  function notice(text) {
    const n = $('#notice');
    n.textContent = text || '';
    n.hidden = !text;
  }

  // ---- streams table -------------------------------------------------------------------------

  const COLUMNS = [
    ['id', (s) => s.id],
    ['state', (s) => s.state],
    ['policy', (s) => s.policy],
    ['target', (s) => s.target || '–'],
    ['qp', (s) => (s.knobs ? String(s.knobs.qp) : '–')],
    ['resolution', (s) => (s.knobs ? `${s.knobs.resolution} (${s.knobs.size})` : '–')],
    ['fps', (s) => (s.knobs ? String(s.knobs.fps) : '–')],
    ['roi', (s) => (s.knobs ? String(s.knobs.roi) : '–')],
    ['kbps', (s) => fmt(s.kbps, 1)],
    ['vsRef', (s) => (s.vsRef === null ? '–' : `${fmt(s.vsRef, 3)}×`)],
    ['proxy', (s) => fmt(s.proxy, 2)],
    ['lastF1', (s) => fmt(s.lastF1, 3)],
    ['lambda', (s) => (s.lambda === null ? '–' : s.lambda.toPrecision(3))],
    ['segmentsDone', (s) => (s.totalSegments === null ? String(s.segmentsDone) : `${s.segmentsDone}/${s.totalSegments}`)],
    ['segmentsFailed', (s) => String(s.segmentsFailed)],
    ['lag', (s) => (s.lagSegments === null ? '–' : `${fmt(s.lagS, 1)} s`)],
  ];

  function renderStreamRow(s) {
    const body = $('#streams tbody');
    let tr = body.querySelector(`tr[data-stream="${CSS.escape(s.id)}"]`);
    if (!tr) {
      tr = el('tr', { 'data-stream': s.id, tabindex: 0, onclick: () => select(s.id), onkeydown: (e) => e.key === 'Enter' && select(s.id) });
      for (const [field] of COLUMNS) tr.append(el('td', { 'data-field': field }));
      const rows = [...body.children];
      const after = rows.find((r) => r.dataset.stream > s.id);
      body.insertBefore(tr, after || null);
    }
    for (const [field, text] of COLUMNS) {
      const td = tr.querySelector(`td[data-field="${field}"]`);
      const t = text(s);
      if (td.textContent !== t) td.textContent = t;
    }
    tr.querySelector('td[data-field="state"]').dataset.state = s.state;
    tr.querySelector('td[data-field="segmentsFailed"]').classList.toggle('bad', s.segmentsFailed > 0);
    tr.classList.toggle('selected', s.id === selected);
    $('#no-streams').hidden = streams.size > 0;
  }

  function setSummary(s) {
    streams.set(s.id, s);
    renderStreamRow(s);
    if (detail && detail.id === s.id) renderDetailMeta(s);
  }

  // ---- stream detail: timelines --------------------------------------------------------------

  const SERIES = [
    { key: 'qp', label: 'QP', stepped: true, color: '#3b6fd8' },
    { key: 'resolution', label: 'resolution (scale)', stepped: true, color: '#7a4fd0' },
    { key: 'fps', label: 'fps', stepped: true, color: '#1d9a8a' },
    { key: 'roi', label: 'roi (QP offset)', stepped: true, color: '#c27c0e' },
    { key: 'kbps', label: 'kbit/s', color: '#d04f4f' },
    { key: 'proxy', label: 'proxy', color: '#5a8f29' },
    { key: 'f1', label: 'audited F1', color: '#222', points: true },
    { key: 'lambda', label: 'price λ', color: '#b0388f', log: true },
  ];

  function chartWidth() {
    const box = $('#charts');
    const cols = box.clientWidth >= 1100 ? 4 : box.clientWidth >= 700 ? 2 : 1;
    // 12 px gaps; each chart's border and padding take 6 px more.
    return Math.floor((box.clientWidth - (cols - 1) * 12) / cols) - 6;
  }

  /** Failed segments as red bands behind every timeline. */
  function failedBands(u) {
    if (!detail || detail.failures.size === 0) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = 'rgba(220, 50, 50, 0.18)';
    for (const seq of detail.failures.keys()) {
      const x0 = u.valToPos(seq - 0.5, 'x', true);
      const x1 = u.valToPos(seq + 0.5, 'x', true);
      ctx.fillRect(Math.max(x0, u.bbox.left), u.bbox.top, Math.max(1, Math.min(x1, u.bbox.left + u.bbox.width) - Math.max(x0, u.bbox.left)), u.bbox.height);
    }
    ctx.restore();
  }

  /** A knob that never moved gets a band around its value, not uPlot's 0–100. */
  function paddedRange(_u, min, max) {
    if (min === null || max === null) return [0, 1];
    const pad = min === max ? Math.max(1, Math.abs(min) * 0.1) : (max - min) * 0.1;
    return [min - pad, max + pad];
  }

  function seriesData(key) {
    if (key === 'lambda') {
      const pts = [...detail.lambda.values()].sort((a, b) => a.seq - b.seq);
      return [pts.map((p) => p.seq), pts.map((p) => p.lambda)];
    }
    const pts = [...detail.timeline.values()].sort((a, b) => a.seq - b.seq);
    return [pts.map((p) => p.seq), pts.map((p) => (p[key] === undefined ? null : p[key]))];
  }

  function buildCharts() {
    for (const c of charts) c.plot.destroy();
    charts = [];
    const box = $('#charts');
    box.textContent = '';
    const width = chartWidth();
    for (const s of SERIES) {
      const holder = el('div', { class: 'chart', 'data-series': s.key, 'data-points': 0 }, el('h4', { text: s.label }));
      box.append(holder);
      const opts = {
        width,
        height: 150,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false }, y: s.log ? { distr: 3 } : { range: paddedRange } },
        axes: [{ label: 'segment', size: 30, labelSize: 14 }, { size: 46 }],
        series: [{}, { label: s.label, stroke: s.color, width: 2, spanGaps: false, points: { show: s.points ? true : (u) => u.data[0].length < 40 }, paths: s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined }],
        hooks: { drawClear: [failedBands] },
      };
      const plot = new uPlot(opts, seriesData(s.key), holder);
      charts.push({ key: s.key, plot, holder });
    }
    refreshCharts();
  }

  function refreshCharts() {
    for (const c of charts) {
      const data = seriesData(c.key);
      c.plot.setData(data);
      const n = data[1].filter((v) => v !== null).length;
      c.holder.dataset.points = String(n);
      c.holder.hidden = c.key === 'lambda' && n === 0;
    }
  }

  function renderDetailMeta(s) {
    $('#detail-meta').textContent = `${s.source} · ${s.policy} · ${s.model} · ${s.state}` + (s.knobs ? ` · now ${knobText(s.knobs)} (v${s.knobs.version}, from segment ${s.knobs.validFromSeq})` : '');
  }

  function renderUpdates() {
    const body = $('#updates tbody');
    body.textContent = '';
    for (const u of [...detail.updates.values()].sort((a, b) => b.version - a.version)) {
      body.append(el('tr', { 'data-version': u.version }, el('td', { text: `v${u.version}` }), el('td', { text: String(u.validFromSeq) }), el('td', { text: String(u.afterSeq) }), el('td', { 'data-knobs': '', text: knobText(u.knobs) + (u.audit ? ' + audit' : '') })));
    }
  }

  function renderFailures() {
    const body = $('#failures tbody');
    body.textContent = '';
    for (const f of [...detail.failures.values()].sort((a, b) => a.seq - b.seq)) {
      body.append(el('tr', { 'data-seq': f.seq }, el('td', { text: String(f.seq) }), el('td', { text: knobText(f.knobs) }), el('td', { class: 'reason', text: f.error })));
    }
    $('#no-failures').hidden = detail.failures.size > 0;
  }

  async function select(id) {
    selected = id;
    history.replaceState(null, '', `#stream=${encodeURIComponent(id)}`);
    for (const tr of document.querySelectorAll('#streams tbody tr')) tr.classList.toggle('selected', tr.dataset.stream === id);
    await loadDetail(id);
  }

  /** Events of the stream whose detail is being read: applied once the read is in. */
  let loading = null;
  let chartsFor = null;

  async function loadDetail(id) {
    loading = { id, events: [] };
    const mine = loading;
    const r = await api(`/api/streams/${encodeURIComponent(id)}?rows=0`);
    if (loading === mine) loading = null;
    if (!r.ok || selected !== id) return;
    const d = r.body;
    detail = {
      id,
      timeline: new Map(d.timeline.map((p) => [p.seq, p])),
      failures: new Map(d.failures.map((f) => [f.seq, f])),
      updates: new Map(d.updates.map((u) => [u.version, u])),
      lambda: new Map(d.lambda.map((l) => [l.seq, l])),
    };
    // Events that raced the read: each is keyed by seq or version, so nothing doubles.
    for (const e of mine.events) applyToDetail(e);
    $('#detail').hidden = false;
    $('#detail-id').textContent = id;
    setSummary(d.summary);
    renderDetailMeta(streams.get(id) || d.summary);
    if (chartsFor !== id) buildCharts();
    else refreshCharts();
    chartsFor = id;
    renderUpdates();
    renderFailures();
  }

  function applyToDetail(e) {
    if (e.point) detail.timeline.set(e.point.seq, e.point);
    if (e.failure) detail.failures.set(e.failure.seq, e.failure);
    if (e.lambda) detail.lambda.set(e.lambda.seq, e.lambda);
    if (e.updates) for (const u of e.updates) detail.updates.set(u.version, u);
  }

  function onStreamEvent(e) {
    if (loading && loading.id === e.id) loading.events.push(e);
    setSummary(e.summary);
    if (!selected) return void select(e.id);
    if (selected === e.id && (!detail || detail.id !== e.id) && !loading) return void loadDetail(e.id);
    if (!detail || detail.id !== e.id) return;
    applyToDetail(e);
    if (e.point || e.lambda || e.failure) refreshCharts();
    if (e.updates) renderUpdates();
    if (e.failure) renderFailures();
  }

  // ---- queues --------------------------------------------------------------------------------

  const COUNTS = ['waiting', 'active', 'delayed', 'failed', 'completed'];

  function renderQueues(queues) {
    const box = $('#queues');
    box.textContent = '';
    for (const q of queues) {
      const counts = el('div', { class: 'counts' }, ...COUNTS.map((k) => el('span', { class: `count ${k}`, 'data-count': k }, el('b', { text: String(q.counts[k] ?? 0) }), ` ${k}`)));
      const card = el('div', { class: 'queue', 'data-queue': q.name }, el('h3', { text: q.name }), counts);
      if (q.failed.length > 0) {
        const table = el('table', { class: 'failed-jobs' }, el('thead', {}, el('tr', {}, el('th', { text: 'failed job' }), el('th', { text: 'reason' }), el('th', { text: 'attempts' }), el('th'))));
        const body = el('tbody');
        for (const j of q.failed) {
          body.append(
            el(
              'tr',
              { 'data-job': j.id },
              el('td', { class: 'job-id', text: j.id }),
              el('td', { class: 'reason', title: j.reason }, el('div', { class: 'clamp', text: j.reason || '(no reason)' })),
              el('td', { text: String(j.attempts) }),
              el('td', {}, el('button', { type: 'button', 'data-retry': `${q.name}/${j.id}`, onclick: () => retry(q.name, j.id) }, 'Retry')),
            ),
          );
        }
        table.append(body);
        card.append(table);
      }
      box.append(card);
    }
  }

  function actionStatus(text, bad) {
    const s = $('#action-status');
    s.textContent = text;
    s.classList.toggle('bad', !!bad);
  }

  async function retry(queue, id) {
    const path = `/api/queues/${encodeURIComponent(queue)}/jobs/${encodeURIComponent(id)}/retry`;
    let r = await api(path, { method: 'POST' });
    if (r.status === 401) {
      const t = prompt('Retrying a job needs the dashboard token (ONEADAPT_DASHBOARD_TOKEN):');
      if (!t) return actionStatus(`retry of ${id} cancelled: no token`, true);
      token = t;
      r = await api(path, { method: 'POST' });
      if (r.status === 401) token = null;
    }
    if (r.ok) actionStatus(`${queue} job ${id} retried: ${r.body.state}`);
    else actionStatus(`retry of ${id} refused (${r.status}): ${(r.body && r.body.error) || 'error'}`, true);
    const q = await api('/api/queues');
    if (q.ok) renderQueues(q.body);
  }

  // ---- bench ---------------------------------------------------------------------------------

  const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const plotUrl = (name) => `/api/bench/plots/${encodeURIComponent(name)}`;

  /** summary.md's headings, tables, lists, paragraphs and plot images; everything else as text. */
  function markdown(md, used) {
    const inline = (t) =>
      escapeHtml(t)
        .replace(/`([^`]+)`/g, '<code>$1</code>')
        .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
        .replace(/!\[([^\]]*)\]\(plots\/([A-Za-z0-9._-]+\.png)\)/g, (_m, alt, name) => {
          used.add(name);
          return `<img class="plot" alt="${alt}" src="${plotUrl(name)}">`;
        })
        .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1');
    const out = [];
    const lines = md.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (/^\s*\|/.test(line)) {
        const rows = [];
        while (i < lines.length && /^\s*\|/.test(lines[i])) rows.push(lines[i++]);
        i--;
        const cells = (r) => r.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
        const body = rows.filter((r, k) => !(k === 1 && /^[\s|:-]+$/.test(r)));
        const [head, ...rest] = body;
        out.push(`<table class="md"><thead><tr>${cells(head).map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${rest.map((r) => `<tr>${cells(r).map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
      } else if (/^#{1,6}\s/.test(line)) {
        const level = Math.min(6, line.match(/^#+/)[0].length + 2);
        out.push(`<h${level}>${inline(line.replace(/^#+\s*/, ''))}</h${level}>`);
      } else if (/^\s*[-*]\s/.test(line)) {
        out.push(`<ul><li>${inline(line.replace(/^\s*[-*]\s/, ''))}</li></ul>`);
      } else if (line.trim() !== '') {
        out.push(`<p>${inline(line)}</p>`);
      }
    }
    return out.join('\n');
  }

  async function loadBench() {
    const r = await api('/api/bench');
    if (!r.ok) return;
    const b = r.body;
    $('#bench').hidden = false;
    $('#bench-link').hidden = false;
    $('#bench-name').textContent = b.name;
    const used = new Set();
    // The page's own renderer over escaped text: nothing in the file runs as markup.
    $('#bench-body').innerHTML = b.markdown ? markdown(b.markdown, used) : '<p class="empty">No summary.md in this folder.</p>';
    const plots = $('#bench-plots');
    plots.textContent = '';
    for (const p of b.plots.filter((name) => !used.has(name))) plots.append(el('figure', {}, el('img', { class: 'plot', alt: p, src: plotUrl(p) }), el('figcaption', { text: p })));
  }

  // ---- live updates --------------------------------------------------------------------------

  async function loadAll() {
    const r = await api('/api/streams');
    if (!r.ok) return notice(`could not read the streams (${r.status}): ${(r.body && r.body.error) || ''}`);
    notice('');
    for (const s of r.body) setSummary(s);
    $('#no-streams').hidden = r.body.length > 0;
    if (!selected && r.body.length > 0) selected = r.body[0].id;
    if (selected && streams.has(selected)) await select(selected);
    const q = await api('/api/queues');
    if (q.ok) renderQueues(q.body);
  }

  function live(state, text) {
    const b = $('#live');
    b.dataset.state = state;
    b.textContent = text;
  }

  function connect() {
    const es = new EventSource('/api/events');
    let dropped = false;
    es.addEventListener('open', () => {
      live('live', 'live');
      // Whatever happened while the stream was down is read again.
      if (dropped) void loadAll();
      dropped = false;
    });
    es.addEventListener('error', () => {
      dropped = true;
      live('down', 'reconnecting…');
    });
    es.addEventListener('stream', (m) => onStreamEvent(JSON.parse(m.data)));
    es.addEventListener('queues', (m) => renderQueues(JSON.parse(m.data).queues));
    es.addEventListener('resync', () => void loadAll());
  }

  async function start() {
    const c = await api('/api/config');
    if (c.ok) config = c.body;
    if (config.bench) void loadBench();
    if (!config.live) {
      for (const s of document.querySelectorAll('[data-live]')) s.hidden = true;
      live('off', 'bench only');
      return;
    }
    connect();
    await loadAll();
    window.addEventListener('resize', () => detail && buildCharts());
  }

  void start();
})();
