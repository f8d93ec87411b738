// gridgate hub pages: live task list (server-sent events) and a submission queue that keeps a
// worker's actions through a flaky network. No framework, no external files.
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

  let flushing = false;
  async function flush() {
    if (flushing) { return; }
    flushing = true;
    try {
      let items = loadQueue();
      while (items.length > 0) {
        try { await send(items[0]); } catch (e) { break; }
        items = loadQueue().slice(1);
        saveQueue(items);
        refreshList();
      }
    } finally { flushing = false; }
  }

  function enqueue(form) {
    const fields = {};
    new FormData(form).forEach(function (value, key) { fields[key] = String(value); });
    const items = loadQueue();
    items.push({ action: form.getAttribute("action"), fields: fields, at: Date.now() });
    saveQueue(items);
    flush();
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-queue")) { return; }
    event.preventDefault();
    enqueue(form);
  });

  async function refreshList() {
    const list = document.getElementById("live-list");
    if (!list) { return; }
    try {
      const response = await fetch(list.dataset.src, { credentials: "same-origin" });
      if (response.ok) { list.innerHTML = await response.text(); }
    } catch (e) { /* offline: keep what is shown */ }
  }

  function listen() {
    const list = document.getElementById("live-list");
    if (!list || !window.EventSource) { return; }
    const source = new EventSource("/events");
    source.addEventListener("task", refreshList);
    // EventSource reconnects by itself; refresh after a reconnection in case we missed news.
    source.addEventListener("open", refreshList);
  }

  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  saveQueue(loadQueue());
  flush();
  listen();
})();
