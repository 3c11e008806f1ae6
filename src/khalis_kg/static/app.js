// khalis-kg query page: YASGUI (static/yasgui/, vendored: docs/server.md) set up for this
// server, offline. The server puts the page's configuration in #yasgui's data-config: the
// endpoint, the project's prefixes (namespaces.PREFIXES) and the graph's classes and
// properties. Nothing here reaches another host: YASQE's completers that ask prefix.cc
// and LOV are replaced by ones that complete from that configuration.
"use strict";

(function () {
  const BASE = "https://w3id.org/khalis-kg/";

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

  const $ = (id) => document.getElementById(id);
  const wanted = decodeURIComponent(location.hash.slice(1)); // "/#NAME": YASGUI clears the hash
  const root = $("yasgui");
  const config = JSON.parse(root.dataset.config);
  const endpoint = new URL(config.endpoint, location.href).href;
  const Yasgui = window.Yasgui;
  const Yasqe = Yasgui.Yasqe;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    node.append(...children);
    return node;
  }

  // --- completion from the server's configuration, never from the network ---
  const prefixLines = Object.entries(config.prefixes).map(([p, ns]) => `${p}: <${ns}>`);
  Yasqe.forkAutocompleter("prefixes", { name: "khalis-prefixes", get: prefixLines.sort(), persistenceId: null }, false);
  Yasqe.forkAutocompleter("class", { name: "khalis-classes", bulk: true, get: config.classes, persistenceId: null }, false);
  Yasqe.forkAutocompleter("property", { name: "khalis-properties", bulk: true, get: config.properties, persistenceId: null }, false);
  Yasqe.defaults.autocompleters = ["khalis-prefixes", "variables", "khalis-classes", "khalis-properties"];

  function longestFirst(prefixes) {
    const entries = Object.entries(prefixes).sort((a, b) => b[1].length - a[1].length);
    return Object.fromEntries(entries);
  }
  const declare = (...names) => names.map((p) => `PREFIX ${p}: <${config.prefixes[p]}>`).join("\n");
  const yasgui = new Yasgui(root, {
    persistenceId: null, // no tabs or answers kept in localStorage: each visit starts anew
    autofocus: false,
    tabName: "Query",
    requestConfig: {
      endpoint,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json",
      acceptHeaderGraph: "text/turtle",
    },
    endpointCatalogueOptions: { getData: () => [{ endpoint }], keys: [] },
    yasqe: {
      value: declare("kg", "rdfs") + "\n\n# Who claimed what about the prison break?\n"
        + "SELECT ?claim ?label ?claimant WHERE {\n  ?claim a kg:Claim ;\n"
        + "         rdfs:label ?label ;\n         kg:claimant ?claimant .\n}\nORDER BY ?claimant",
      editorHeight: "260px",
    },
    // longest namespace first: YASR shortens with the first that matches (place:x, not kgr:place/x)
    yasr: { prefixes: longestFirst(config.prefixes), defaultPlugin: "table", pluginOrder: ["table", "response"] },
  });

  // --- IRIs in results link to their pages on this server ---
  function relink(anchor) {
    const iri = anchor.getAttribute("href");
    if (!iri || anchor.dataset.iri) return;
    const href = linkFor(iri);
    anchor.dataset.iri = iri;
    anchor.title = iri;
    if (href === null) {
      anchor.removeAttribute("href");
    } else if (href.startsWith("/")) {
      anchor.href = href;
      anchor.classList.add("local");
      anchor.removeAttribute("target");
    } else {
      anchor.classList.add("external");
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer";
    }
  }
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        if (node.matches(".yasr a[href]")) relink(node);
        for (const anchor of node.querySelectorAll(".yasr_results a[href]")) relink(anchor);
      }
    }
  }).observe(root, { childList: true, subtree: true });

  // --- packaged queries: one tab each, run by the server with their parameters bound ---
  const packaged = new Map(); // tab id -> { query, body }

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

  function showAbout(tab) {
    const entry = tab && packaged.get(tab.getId());
    $("about").hidden = !entry;
    for (const b of document.querySelectorAll(".query-list button")) {
      const on = Boolean(entry) && b.dataset.name === entry.query.name;
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    }
    if (!entry) return;
    const { query, notes } = entry;
    $("about-title").textContent = query.title || query.name;
    $("about-name").textContent = query.name;
    $("about-question").textContent = query.question || "";
    $("about-notes").replaceChildren(...notes.map((n) => el("p", { text: n })));
    const fields = $("params-fields");
    fields.replaceChildren();
    for (const p of query.parameters || []) {
      const id = "param-" + p.name;
      fields.append(
        el("label", { for: id, title: p.description || null },
          el("span", { class: "param-name", text: p.name }),
          el("span", { class: "param-type", text: p.type + (p.required ? " (required)" : "") })),
        el("input", {
          id, type: "text", "data-param": p.name, value: entry.values[p.name] ?? p.default ?? "",
          placeholder: p.description || p.type, required: p.required || null,
        }));
    }
    markEdited(tab);
  }

  function markEdited(tab) {
    const entry = packaged.get(tab.getId());
    if (!entry) return;
    const edited = tab.getQuery() !== entry.body;
    $("about-edited").textContent = edited
      ? "The editor's text was changed: ▶ in the editor runs it as ad-hoc SPARQL; this button runs the packaged query."
      : "";
  }

  async function runPackaged(tab) {
    const entry = packaged.get(tab.getId());
    const params = new URLSearchParams();
    for (const input of $("params-fields").querySelectorAll("input[data-param]")) {
      entry.values[input.dataset.param] = input.value;
      if (input.value !== "") params.append(input.dataset.param, input.value);
    }
    const qs = params.toString();
    const url = "/queries/" + encodeURIComponent(entry.query.name) + (qs ? "?" + qs : "");
    const started = Date.now();
    const response = await fetch(url, {
      headers: { Accept: "application/sparql-results+json, text/turtle;q=0.9" },
    }).catch((err) => err);
    const yasr = tab.getYasr();
    if (response instanceof Error) {
      yasr.setResponse(new Error("The request failed: " + response.message), Date.now() - started);
      return;
    }
    const content = await response.text();
    if (!response.ok) {
      let message = content;
      try { message = JSON.parse(content).error.message; } catch (e) { /* keep the text */ }
      yasr.setResponse(new Error(`HTTP ${response.status}: ${message.trim()}`), Date.now() - started);
      return;
    }
    yasr.setResponse({
      ok: true, status: response.status, statusText: response.statusText,
      headers: response.headers, type: response.type, content,
    }, Date.now() - started);
  }

  function openPackaged(query) {
    for (const [id, entry] of packaged) {
      if (entry.query.name === query.name && yasgui.getTab(id)) {
        yasgui.selectTabId(id);
        showAbout(yasgui.getTab(id));
        return runPackaged(yasgui.getTab(id));
      }
    }
    const { notes, body } = splitHeader(query.text || "");
    const tab = yasgui.addTab(true, { name: query.title || query.name, yasqe: { value: body } });
    packaged.set(tab.getId(), { query, body, notes, values: {} });
    tab.getYasqe().on("change", () => markEdited(tab));
    showAbout(tab);
    history.replaceState(null, "", "#" + encodeURIComponent(query.name));
    return runPackaged(tab);
  }

  yasgui.on("tabSelect", (_, id) => showAbout(yasgui.getTab(id)));
  yasgui.on("tabClose", (_, tab) => { packaged.delete(tab.getId()); });
  $("params").addEventListener("submit", (event) => {
    event.preventDefault();
    runPackaged(yasgui.getTab());
  });

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
          button.addEventListener("click", () => openPackaged(q));
          list.append(el("li", null, button));
        }
      }
      if (!queries.length) list.append(el("li", { class: "muted", text: "No packaged queries." }));
      const match = queries.find((q) => q.name === wanted);
      if (match) openPackaged(match);
    } catch (err) {
      list.replaceChildren(el("li", { class: "error", text: "Could not load the catalogue: " + err.message }));
    }
  }
  loadCatalogue();
})();
