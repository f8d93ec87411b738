// gridgate hub: the phone page as an installable app. The shell (style, script, icon) comes
// from the cache; pages come from the network and, without one, from the last copy seen, so a
// worker can still read their tasks offline. Submissions are kept by app.js's queue.
"use strict";

const CACHE = "gridgate-shell-v1";
const SHELL = ["/static/app.css", "/static/app.js", "/static/favicon.svg"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== CACHE; })
        .map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname === "/events" || url.pathname.startsWith("/api/")) { return; }
  if (SHELL.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (url.pathname === "/my" || url.pathname === "/my/list" || url.pathname.startsWith("/tasks/")) {
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      }).catch(function () {
        return caches.match(request).then(function (hit) {
          return hit || new Response("", { status: 503 });
        });
      })
    );
  }
});
