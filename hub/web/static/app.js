// gridgate hub pages: live task list (server-sent events), forms that answer in place (what
// happened, or the error in the page's language), outcome forms that ask only what the chosen
// outcome needs, and a submission queue that keeps a worker's actions through a flaky network.
// No framework, no external files, no inline script (the pages' CSP forbids it).
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const QUEUE_KEY = "gridgate.queue";

  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; }
  }
  function saveQueue(items) {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
    const bar = document.getElementById("queue-bar");
    if (bar) {
      bar.classList.toggle("hidden", items.length === 0);
      const count = document.getElementById("queue-count");
      if (count) { count.textContent = String(items.length); }
    }
  }

  async function send(item) {
    const body = new URLSearchParams(item.fields);
    const response = await fetch(item.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRF-Token": csrf ? csrf.content : "" },
    });
    // 2xx: done. 409: it was done already (an earlier try got through). 4xx: give up on it.
    if (response.status >= 500) { throw new Error("server " + response.status); }
    return response;
  }

  const body = document.body;

  function flash(text, ok, html) {
    const box = document.getElementById("flash");
    if (!box) { return; }
    box.textContent = "";
    const line = document.createElement("p");
    line.className = ok ? "notice" : "error";
    line.setAttribute("role", ok ? "status" : "alert");
    line.textContent = text;
    box.appendChild(line);
    if (html) {
      const extra = document.createElement("div");
      extra.innerHTML = html; // rendered by the hub from its own template
      box.appendChild(extra);
    }
    box.scrollIntoView({ block: "nearest" });
  }

  function setResult(form, text, ok) {
    const result = form && form.querySelector(".result");
    if (result) {
      result.textContent = text;
      result.className = "result " + (ok ? "ok" : "failed");
    }
  }

  async function answer(response) {
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    const ok = response.ok && data.ok !== false;
    const text = data.message || data.error || (ok ? "" : body.dataset.failed || "");
    return { ok: ok, text: text, html: data.html || "" };
  }

  async function refreshPage(event) {
    const page = document.getElementById("live-page");
    if (!page) { return; }
    // A refresh the server asked for (a task changed) never comes under someone's fingers:
    // a half-typed reason or an open form stays as it is.
    const busy = function () {
      const active = document.activeElement;
      // A field, or any control of a form (its submit button has the focus as it is clicked).
      return (active && page.contains(active) &&
        (active.matches("input, textarea, select") || active.closest("form") !== null)) ||
        page.querySelector("details[open]") !== null;
    };
    if (event && busy()) { return; }
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok) { return; }
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = doc.getElementById("live-page");
      // Asked again: someone may have started typing while the page was being fetched.
      if (event && busy()) { return; }
      if (fresh) { page.innerHTML = fresh.innerHTML; prepareForms(page); }
    } catch (e) { /* offline: keep what is shown */ }
  }

  let flushing = false;
  async function flush() {
    if (flushing) { return; }
    flushing = true;
    try {
      let items = loadQueue();
      while (items.length > 0) {
        try {
          const response = await send(items[0]);
          if (!response.ok && response.status !== 409) {
            const said = await answer(response);
            flash(said.text, false, "");
          }
        } catch (e) { break; }
        items = loadQueue().slice(1);
        saveQueue(items);
        refreshList();
      }
    } finally { flushing = false; }
  }

  function enqueue(item) {
    const items = loadQueue();
    items.push(item);
    saveQueue(items);
    flush();
  }

  document.addEventListener("submit", async function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-queue")) { return; }
    event.preventDefault();
    if (form.dataset.ask && !window.confirm(form.dataset.ask)) { return; }
    const fields = {};
    new FormData(form).forEach(function (value, key) { fields[key] = String(value); });
    const item = { action: form.getAttribute("action"), fields: fields, at: Date.now() };
    const button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    try {
      const said = await answer(await send(item));
      setResult(form, said.text, said.ok);
      flash(said.text, said.ok, said.html);
      if (said.ok) {
        refreshList();
        refreshPage(null);
        if (form.hasAttribute("data-reload") && !document.getElementById("live-page")) {
          setTimeout(function () { window.location.reload(); }, 1500);
        }
      }
    } catch (e) {
      // No network: kept in this browser and sent when the network is back.
      enqueue(item);
      setResult(form, body.dataset.queued || "", true);
    } finally {
      if (button) { button.disabled = false; }
    }
  });

  // An outcome form shows (and requires) only what the chosen outcome needs.
  function chooseOutcome(form) {
    const chosen = form.querySelector("input[name=outcome]:checked");
    const value = chosen ? chosen.value : "";
    const destructive = chosen ? chosen.hasAttribute("data-destructive") : false;
    form.querySelectorAll("[class*='when-']").forEach(function (part) {
      const wanted = Array.from(part.classList).some(function (name) {
        return name === "when-" + value || (destructive && name === "when-destructive");
      });
      part.classList.toggle("hidden", !wanted);
    });
    const need = function (selector, required) {
      const field = form.querySelector(selector);
      if (field) { field.required = required; }
    };
    need("[data-confirm-box]", destructive);
    need("input[name=back_on]", value === "away");
    need("textarea[name=note]", value === "needs_help");
    need("input[name=occupant_name]", value === "new_occupant_confirmed");
  }

  function prepareForms(root) {
    root.querySelectorAll("form.outcome").forEach(chooseOutcome);
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target instanceof HTMLInputElement && target.name === "outcome" && target.form) {
      chooseOutcome(target.form);
    }
  });

  async function refreshList() {
    const list = document.getElementById("live-list");
    if (!list) { return; }
    try {
      const response = await fetch(list.dataset.src, { credentials: "same-origin" });
      if (response.ok) { list.innerHTML = await response.text(); prepareForms(list); }
    } catch (e) { /* offline: keep what is shown */ }
  }

  function listen() {
    const list = document.getElementById("live-list");
    const page = document.querySelector("#live-page[data-live]");
    if ((!list && !page) || !window.EventSource) { return; }
    const source = new EventSource("/events");
    const refresh = list ? refreshList : refreshPage;
    source.addEventListener("task", refresh);
    // A door alarm (issue 18) changes the console and the doors page: reload what is shown.
    source.addEventListener("alarm", refresh);
    // EventSource reconnects by itself; refresh after a reconnection in case we missed news.
    source.addEventListener("open", refresh);
  }

  // Installable on the phone: the service worker keeps the shell and the last task pages.
  // It lives at /sw.js (served by the hub) so that its scope is the whole site.
  if ("serviceWorker" in navigator && document.getElementById("live-list")) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* not essential */ });
  }

  // Logging out forgets the pages kept for offline use (a phone may be shared).
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.getAttribute("action") === "/logout" &&
        window.caches) {
      caches.keys().then(function (names) { names.forEach(function (n) { caches.delete(n); }); });
    }
  });

  // The pass slip's print button (no inline handlers under the pages' CSP).
  document.addEventListener("click", function (event) {
    const target = event.target;
    if (target instanceof HTMLElement && target.hasAttribute("data-print")) { window.print(); }
  });

  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  saveQueue(loadQueue());
  prepareForms(document);
  flush();
  listen();
})();
