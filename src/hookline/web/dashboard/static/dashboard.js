// hookline dashboard: live fragments over server-sent events, running durations. No inline script
// (the Content-Security-Policy forbids it); the server renders and escapes every fragment.
(function () {
  "use strict";
  var offset = 0; // server clock minus browser clock, in seconds
  var serverNow = parseFloat(document.body.dataset.serverNow || "");
  if (!isNaN(serverNow)) offset = serverNow - Date.now() / 1000;

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h ? h + ":" : "") + mm + ":" + ss;
  }

  function tick() {
    var now = Date.now() / 1000 + offset;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = clock(now - parseFloat(el.dataset.since));
    });
  }

  var live = Array.prototype.slice.call(document.querySelectorAll("[data-live-src]"));
  var version = 0;

  function refresh(el) {
    if (el.dataset.loading === "1") { el.dataset.again = "1"; return; }
    el.dataset.loading = "1";
    fetch(el.dataset.liveSrc, { credentials: "same-origin", headers: { "accept": "text/html" } })
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/login?next=" + encodeURIComponent(location.pathname)); }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          el.innerHTML = html; // server-rendered, autoescaped HTML
          version += 1;
          document.body.dataset.liveVersion = String(version);
          tick();
        }
      })
      .catch(function () { /* the next message or reconnect tries again */ })
      .then(function () {
        el.dataset.loading = "0";
        if (el.dataset.again === "1") { el.dataset.again = "0"; refresh(el); }
      });
  }

  function changed(providers) {
    live.forEach(function (el) {
      var wanted = el.dataset.liveProvider;
      if (!wanted || !providers.length || providers.indexOf(wanted) >= 0) refresh(el);
    });
  }

  if (live.length && window.EventSource) {
    // A page of one account (?account=NAME) hears only that account's changes.
    var account = new URLSearchParams(window.location.search).get("account");
    var source = new EventSource("/live/stream" + (account ? "?account=" + encodeURIComponent(account) : ""));
    var opened = false;
    source.addEventListener("hello", function () {
      document.body.dataset.liveConnected = "1";
      if (opened) changed([]); // reconnected: catch up on what was missed
      opened = true;
    });
    source.addEventListener("change", function (ev) {
      var providers = [];
      try { providers = JSON.parse(ev.data).providers || []; } catch (e) { providers = []; }
      changed(providers);
    });
    source.addEventListener("signed_out", function () {
      // The session was signed out (here or elsewhere): stop listening, offer the sign-in page.
      source.close();
      delete document.body.dataset.liveConnected;
      window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
    });
  }

  // The call page: an audio player for each archived recording or voicemail (served by the admin API).
  document.querySelectorAll("[data-call-api]").forEach(function (box) {
    var api = box.dataset.callApi, query = "";
    var q = api.indexOf("?");
    if (q >= 0) { query = api.slice(q); api = api.slice(0, q); }
    fetch(api + query, { credentials: "same-origin", headers: { "accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (call) {
        [["recording", "Recording"], ["voicemail", "Voicemail"]].forEach(function (kind) {
          if (call[kind[0] + "_archived"] !== true) return; // a missing flag means not archived
          var h = document.createElement("h2");
          h.textContent = kind[1];
          var audio = document.createElement("audio");
          audio.controls = true;
          audio.preload = "none";
          audio.className = "player-" + kind[0];
          audio.src = api + "/" + kind[0] + query;
          box.appendChild(h);
          box.appendChild(audio);
        });
        box.dataset.checked = "1";
      })
      .catch(function () { box.dataset.checked = "1"; });
  });

  tick();
  setInterval(tick, 1000);
})();
