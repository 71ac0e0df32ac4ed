// The player's file URL, renewed before it expires (media pages and guest
// views alike).
//
// A file URL may start a stream for a short while, and a stream continues on
// it only while its requests keep coming. So before it expires the page asks
// to renew it (data-renew-url), naming the URL it plays (?grant=): the
// request keeps that URL's stream alive and usually extends the URL itself,
// so nothing changes for the player. Only when the URL has run its course
// does a new one come: a player that is not playing takes it at once; a
// playing one keeps streaming on its old URL and takes the new one when it
// pauses. Should a request fail anyway, the player resumes from where it was
// on a fresh URL.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var renewAfter = player && parseInt(player.getAttribute("data-renew-after"), 10);
  var renewUrl = player && player.getAttribute("data-renew-url");
  if (!player || !renewAfter || !renewUrl || !player.hasAttribute("src")) return;
  var meta = document.querySelector('meta[name="guestlink-session"]');
  var token = meta ? meta.getAttribute("content") : "";
  var isMedia = player.tagName === "VIDEO" || player.tagName === "AUDIO";
  var pending = null;

  function playing() {
    return isMedia ? (player.currentSrc || player.src) : player.getAttribute("src");
  }

  function grantOf(url) {
    try { return new URL(url, window.location.href).searchParams.get("grant"); } catch (e) { return null; }
  }

  function swapTo(url, resume) {
    if (!isMedia) {
      // An image or a PDF already shown keeps what it showed; a reload
      // would only flicker.
      player.setAttribute("data-src", url);
      return;
    }
    var at = player.currentTime;
    var play = resume || (!player.paused && !player.ended);
    player.src = url;
    player.addEventListener("loadedmetadata", function seek() {
      player.removeEventListener("loadedmetadata", seek);
      if (at > 0) player.currentTime = at;
      if (play) player.play().catch(function () {});
    });
  }

  function freshUrl() {
    var grant = grantOf(playing());
    var url = renewUrl + (grant ? "?grant=" + encodeURIComponent(grant) : "");
    var init = { credentials: "same-origin", headers: {} };
    // Members send their session; guests' cookie goes with the request.
    if (token) init.headers.Authorization = "Bearer " + token;
    return fetch(url, init).then(
      function (response) {
        if (!response.ok) return null;
        return response.json().then(function (body) { return body.url; }, function () { return null; });
      },
      function () { return null; }
    );
  }

  window.setInterval(function () {
    freshUrl().then(function (url) {
      if (!url || url === playing()) return;
      if (isMedia && !player.paused && !player.ended) pending = url; else swapTo(url, false);
    });
  }, renewAfter * 1000);

  if (isMedia) {
    player.addEventListener("pause", function () {
      if (pending) { var url = pending; pending = null; swapTo(url, false); }
    });
    var lastRecovery = 0;
    player.addEventListener("error", function () {
      // At most one recovery every few seconds, so a file that is really
      // gone does not loop.
      if (Date.now() - lastRecovery < 5000) return;
      lastRecovery = Date.now();
      freshUrl().then(function (url) { if (url) swapTo(url, true); });
    });
  }
})();
