// khalis-kg query page. No framework, no CDN; every value from the server is put in
// the page with textContent or as an attribute (never innerHTML), so nothing a query
// returns can inject markup.
"use strict";

(function () {
  const BASE = "https://w3id.org/khalis-kg/";
  const PREFIXES = {
    kg: "https://w3id.org/khalis-kg/ontology#",
    kgc: "https://w3id.org/khalis-kg/concept/",
    event: BASE + "id/event/", claim: BASE + "id/claim/", account: BASE + "id/account/",
    person: BASE + "id/person/", organization: BASE + "id/organization/",
    group: BASE + "id/group/", place: BASE + "id/place/", location: BASE + "id/location/",
    quantity: BASE + "id/quantity/", position: BASE + "id/position/", link: BASE + "id/link/",
    channel: BASE + "id/channel/", document: BASE + "id/document/", span: BASE + "id/span/",
    kgr: BASE + "id/",
    rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    rdfs: "http://www.w3.org/2000/01/rdf-schema#",
    owl: "http://www.w3.org/2002/07/owl#",
    xsd: "http://www.w3.org/2001/XMLSchema#",
    skos: "http://www.w3.org/2004/02/skos/core#",
    dcterms: "http://purl.org/dc/terms/",
    prov: "http://www.w3.org/ns/prov#",
    sem: "http://semanticweb.cs.vu.nl/2009/11/sem/",
    schema: "https://schema.org/",
    geo: "http://www.opengis.net/ont/geosparql#",
    oa: "http://www.w3.org/ns/oa#",
    foaf: "http://xmlns.com/foaf/0.1/",
    wd: "http://www.wikidata.org/entity/",
  };
  const RESULT_FORMATS = [["csv", "CSV"], ["tsv", "TSV"], ["json", "JSON"], ["xml", "XML"]];
  const GRAPH_FORMATS = [["ttl", "Turtle"], ["nt", "N-Triples"], ["jsonld", "JSON-LD"], ["rdf", "RDF/XML"]];
  const MAX_URL = 7000;

  const $ = (id) => document.getElementById(id);
  const editor = $("editor");
  const state = { selected: null, selectedText: null };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(typeof child === "string" ? document.createTextNode(child) : child);
      }
    }
    return node;
  }

  function compact(iri) {
    let best = "", bestPrefix = "";
    for (const [prefix, ns] of Object.entries(PREFIXES)) {
      if (iri.startsWith(ns) && ns.length > best.length) { best = ns; bestPrefix = prefix; }
    }
    if (best) {
      const local = iri.slice(best.length);
      if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(local) && !local.endsWith(".")) {
        return bestPrefix + ":" + local;
      }
    }
    return iri;
  }

  // --- links: the same rule as server/pages.py href() (tests/test_links.py runs it) ---
  const SAFE_PATH = /^[A-Za-z0-9._~!$&'()*+,;=:@%\/-]*$/;
  const EXTERNAL = /^https?:\/\/[^\x00-\x20\x7f<>"'`\\]+$/;

  function linkFor(iri) {
    // A project IRI links to its page on this server, as a path that cannot leave it:
    // no backslash or whitespace (browsers read "\\" as "/" and drop tabs), never "//"
    // first ("https://w3id.org/khalis-kg//evil.example" must not link to evil.example).
    if (iri.startsWith(BASE)) {
      const rest = iri.slice(BASE.length);
      const cut = rest.indexOf("#");
      const path = cut < 0 ? rest : rest.slice(0, cut);
      const fragment = cut < 0 ? "" : rest.slice(cut + 1);
      if (SAFE_PATH.test(path) && SAFE_PATH.test(fragment) && !path.startsWith("/")) {
        return "/" + rest;
      }
    }
    if (EXTERNAL.test(iri)) return iri;
    return null;
  }
  // --- end links ---

  function termNode(term) {
    if (!term) return el("span", { class: "unbound", text: "" });
    if (term.type === "uri") {
      const href = linkFor(term.value);
      if (!href) return el("span", { class: "iri", text: term.value });
      const local = href.startsWith("/");
      return el("a", {
        href, title: term.value, class: local ? "local" : "external",
        rel: local ? null : "noopener noreferrer", text: compact(term.value),
      });
    }
    if (term.type === "bnode") return el("span", { class: "bnode", text: "_:" + term.value });
    const node = el("span", { class: "literal" }, term.value);
    if (term["xml:lang"]) {
      // The tag is on hover (title) and, when it is not English, a small mark beside.
      const tag = term["xml:lang"];
      node.setAttribute("lang", tag);
      node.setAttribute("title", "language: " + tag);
      if (tag.toLowerCase() === "en") return node;
      return el("span", null, node, el("span", { class: "lang", text: tag }));
    }
    if (term.datatype && !term.datatype.endsWith("#string")) {
      return el("span", { class: /#(integer|decimal|double|float)$/.test(term.datatype) ? "num" : null },
        node, el("span", { class: "datatype", text: "^^" + compact(term.datatype) }));
    }
    return node;
  }

  function setStatus(text) { $("status").textContent = text; }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = !message;
  }

  // A column X with a sibling XLabel shows the label, linked to X's page (the IRI on
  // hover); XLabel itself is then hidden. The column chooser shows or hides any column.
  function labelled(vars) {
    const merged = {};
    for (const v of vars) if (vars.includes(v + "Label")) merged[v] = v + "Label";
    return merged;
  }

  function cellNode(row, v, merged) {
    const term = row[v];
    const label = merged[v] && row[merged[v]];
    if (term && term.type === "uri" && label) {
      const href = linkFor(term.value);
      const text = label.value;
      if (!href) return el("span", { class: "iri", title: term.value, text });
      const local = href.startsWith("/");
      return el("a", {
        href, title: compact(term.value), class: (local ? "local" : "external") + " labelled",
        rel: local ? null : "noopener noreferrer", text,
      });
    }
    return termNode(term);
  }

  function applyColumns(table, vars, hidden) {
    vars.forEach((v, i) => {
      for (const cell of table.querySelectorAll(`tr > :nth-child(${i + 2})`)) {
        cell.hidden = hidden.has(v);
      }
    });
    const shown = vars.filter((v) => !hidden.has(v)).length;
    $("columns-count").textContent = `(${shown} of ${vars.length} shown)`;
  }

  function columnChooser(table, vars, hidden) {
    const list = $("columns-list");
    list.replaceChildren();
    for (const v of vars) {
      const box = el("input", { type: "checkbox", "data-column": v, checked: !hidden.has(v) });
      box.addEventListener("change", () => {
        if (box.checked) hidden.delete(v); else hidden.add(v);
        applyColumns(table, vars, hidden);
      });
      list.append(el("label", null, box, " " + v));
    }
    $("columns").hidden = vars.length < 2;
  }

  function renderTable(json, echoed = []) {
    const vars = (json.head && json.head.vars) || [];
    const rows = (json.results && json.results.bindings) || [];
    const merged = labelled(vars);
    // Hidden at first (the chooser shows them): label columns shown in their IRI's
    // column, columns no row binds, and a packaged query's parameters echoed back.
    const hidden = new Set(Object.values(merged));
    for (const v of vars) if (!rows.some((row) => row[v])) hidden.add(v);
    for (const p of echoed) if (vars.includes(p)) hidden.add(p);
    const table = el("table", { class: "results-table" });
    const head = el("tr", null, el("th", { class: "rownum", text: "#" }));
    for (const v of vars) head.append(el("th", { scope: "col", text: v }));
    table.append(el("thead", null, head));
    const body = el("tbody");
    rows.forEach((row, i) => {
      const tr = el("tr", null, el("td", { class: "rownum", text: String(i + 1) }));
      for (const v of vars) tr.append(el("td", null, cellNode(row, v, merged)));
      body.append(tr);
    });
    table.append(body);
    const box = $("results");
    box.replaceChildren(rows.length ? table : el("p", { class: "muted", text: "No results." }));
    if (rows.length) {
      applyColumns(table, vars, hidden);
      columnChooser(table, vars, hidden);
    } else {
      $("columns").hidden = true;
    }
    return rows.length;
  }

  function downloadLinks(baseUrl, form, name) {
    const box = $("downloads");
    box.replaceChildren();
    if (!baseUrl || baseUrl.length > MAX_URL) return;
    const list = form === "graph" ? GRAPH_FORMATS : RESULT_FORMATS;
    box.append(el("span", { class: "muted", text: "Download:" }));
    for (const [fmt, label] of list) {
      const sep = baseUrl.includes("?") ? "&" : "?";
      box.append(el("a", {
        href: baseUrl + sep + "format=" + fmt, download: (name || "results") + "." + fmt,
        class: "download", text: label,
      }));
    }
  }

  function currentParams() {
    const params = new URLSearchParams();
    for (const input of $("params").querySelectorAll("input[data-param]")) {
      if (input.value !== "") params.append(input.dataset.param, input.value);
    }
    return params;
  }

  async function run() {
    const text = editor.value;
    const packaged = state.selected && text === state.selectedText;
    let url, init;
    if (packaged) {
      const params = currentParams();
      const qs = params.toString();
      url = "/queries/" + encodeURIComponent(state.selected.name) + (qs ? "?" + qs : "");
      init = {};
    } else {
      url = "/sparql";
      init = {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ query: text }).toString(),
      };
      if (state.selected) $("query-name").textContent = "edited: runs as ad-hoc SPARQL";
    }
    init.headers = Object.assign({}, init.headers || {}, {
      Accept: "application/sparql-results+json, text/turtle;q=0.9",
    });
    showError("");
    setStatus("Running…");
    $("run").disabled = true;
    const started = performance.now();
    try {
      const response = await fetch(url, init);
      const elapsed = ((performance.now() - started) / 1000).toFixed(2);
      const type = (response.headers.get("Content-Type") || "").split(";")[0];
      const body = await response.text();
      if (!response.ok) {
        let message = body;
        if (type === "application/json") {
          try { message = JSON.parse(body).error.message; } catch (e) { /* keep text */ }
        }
        showError(`HTTP ${response.status}: ${message.trim()}`);
        setStatus("");
        $("downloads").replaceChildren();
        $("results").replaceChildren();  // no stale rows or hint under the error
        $("columns").hidden = true;
        return;
      }
      const download = packaged ? url : "/sparql?" + new URLSearchParams({ query: text }).toString();
      const name = packaged ? state.selected.name : "results";
      if (type === "application/sparql-results+json") {
        const json = JSON.parse(body);
        if (typeof json.boolean === "boolean") {
          $("results").replaceChildren(el("p", { class: "boolean", text: "ASK → " + json.boolean }));
          $("columns").hidden = true;
          setStatus(`${elapsed} s`);
          downloadLinks(download, "ask", name);
        } else {
          const echoed = packaged ? (state.selected.parameters || []).map((p) => p.name) : [];
          const n = renderTable(json, echoed);
          setStatus(`${n} row${n === 1 ? "" : "s"} · ${elapsed} s`);
          downloadLinks(download, "select", name);
        }
      } else {
        $("results").replaceChildren(el("pre", { class: "turtle", text: body }));
        $("columns").hidden = true;
        setStatus(`graph · ${elapsed} s`);
        downloadLinks(download, "graph", name);
      }
    } catch (err) {
      showError("The request failed: " + err.message);
      setStatus("");
      $("results").replaceChildren();
      $("columns").hidden = true;
    } finally {
      $("run").disabled = false;
    }
  }

  function renderParams(query) {
    const box = $("params");
    box.replaceChildren();
    const params = query.parameters || [];
    box.hidden = params.length === 0;
    for (const p of params) {
      const id = "param-" + p.name;
      box.append(el("label", { for: id, title: p.description || null },
        el("span", { class: "param-name", text: p.name }),
        el("span", { class: "param-type", text: p.type + (p.required ? " (required)" : "") })));
      box.append(el("input", {
        id, type: "text", "data-param": p.name, value: p.default || "",
        placeholder: p.description || p.type, required: p.required || null,
      }));
    }
  }

  // A packaged query starts with "# key: value" lines and free comment lines: they
  // become the description above the editor, which shows the SPARQL itself.
  function splitHeader(text) {
    const lines = text.split("\n");
    let i = 0;
    const notes = [];
    while (i < lines.length && /^\s*(#.*)?$/.test(lines[i])) {
      const line = lines[i].replace(/^\s*#\s?/, "");
      if (!/^(title|question|param|columns)\s*:/.test(line)) notes.push(line);
      i += 1;
    }
    const paragraphs = notes.join("\n").split(/\n\s*\n/).map((p) => p.replace(/\s+/g, " ").trim());
    return { notes: paragraphs.filter((p) => p), body: lines.slice(i).join("\n") };
  }

  function describe(query, notes) {
    $("about").hidden = false;
    $("about-question").textContent = query.question || query.title || "";
    const box = $("about-notes");
    box.replaceChildren(...notes.map((n) => el("p", { text: n })));
    if (query.columns && query.columns.length) {
      box.append(el("p", { class: "muted", text: "Columns: " + query.columns.join(", ") }));
    }
  }

  function select(query, button) {
    const { notes, body } = splitHeader(query.text || "");
    describe(query, notes);
    state.selected = query;
    state.selectedText = body;
    editor.value = state.selectedText;
    $("query-name").textContent = query.name;
    for (const b of document.querySelectorAll(".query-list button")) {
      b.classList.toggle("active", b === button);
      b.setAttribute("aria-pressed", b === button ? "true" : "false");
    }
    renderParams(query);
    history.replaceState(null, "", "#" + encodeURIComponent(query.name));
    run();
  }

  async function loadCatalogue() {
    const list = $("queries");
    try {
      const response = await fetch("/queries", { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const queries = await response.json();
      list.replaceChildren();
      const regular = queries.filter((q) => !q.check);
      const checks = queries.filter((q) => q.check);
      for (const group of [regular, checks]) {
        if (group === checks && checks.length) {
          list.append(el("li", { class: "group", text: "Quality checks (expect no rows)" }));
        }
        for (const q of group) {
          const button = el("button", {
            type: "button", class: "query", "data-name": q.name, "aria-pressed": "false",
          }, el("span", { class: "title", text: q.title || q.name }),
             el("span", { class: "question", text: q.question || "" }));
          button.addEventListener("click", () => select(q, button));
          list.append(el("li", null, button));
        }
      }
      if (!queries.length) list.append(el("li", { class: "muted", text: "No packaged queries." }));
      const shared = new URLSearchParams(location.search).get("query");
      if (shared) {  // /?query=… opens the page with that query and runs it
        editor.value = shared;
        run();
        return;
      }
      const wanted = decodeURIComponent(location.hash.slice(1));
      const match = wanted && list.querySelector(`button[data-name="${CSS.escape(wanted)}"]`);
      if (match) match.click();
    } catch (err) {
      list.replaceChildren(el("li", { class: "error", text: "Could not load the catalogue: " + err.message }));
    }
  }

  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    } else if (event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      const { selectionStart: start, selectionEnd: end } = editor;
      editor.setRangeText("  ", start, end, "end");
    }
  });
  editor.addEventListener("input", () => {
    if (state.selected) {
      $("query-name").textContent = editor.value === state.selectedText
        ? state.selected.name : state.selected.name + " (edited: runs as ad-hoc SPARQL)";
    }
  });
  $("run").addEventListener("click", run);
  loadCatalogue();
})();
