// The media page: the three-dot menu (a WAI-ARIA menu button), the dialogs
// its entries open, and the renewal of the player's signed file URL.
(function () {
  "use strict";

  var main = document.querySelector('main[data-page="media"]');
  if (!main) return;
  var mediaId = main.getAttribute("data-media-id");
  var gl = window.guestlink;
  var api = gl.api;

  // ---- The menu -----------------------------------------------------------
  var button = document.getElementById("media-menu-button");
  var menu = document.getElementById("media-menu");

  function items() {
    return Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]:not([disabled])'));
  }

  function openMenu(focusLast) {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    var list = items();
    if (list.length) list[focusLast ? list.length - 1 : 0].focus();
  }

  function closeMenu(returnFocus) {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (returnFocus) button.focus();
  }

  function moveFocus(step) {
    var list = items();
    var at = list.indexOf(document.activeElement);
    list[(at + step + list.length) % list.length].focus();
  }

  if (button && menu) {
    button.addEventListener("click", function () {
      if (menu.hidden) openMenu(false); else closeMenu(true);
    });
    button.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openMenu(false);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        openMenu(true);
      }
    });
    menu.addEventListener("keydown", function (event) {
      var list = items();
      switch (event.key) {
        case "ArrowDown": event.preventDefault(); moveFocus(1); break;
        case "ArrowUp": event.preventDefault(); moveFocus(-1); break;
        case "Home": event.preventDefault(); list[0].focus(); break;
        case "End": event.preventDefault(); list[list.length - 1].focus(); break;
        case "Escape": event.preventDefault(); closeMenu(true); break;
        case "Tab": closeMenu(false); break;
      }
    });
    menu.addEventListener("click", function (event) {
      var item = event.target.closest('[role="menuitem"]');
      if (!item) return;
      closeMenu(false);
      openDialog(item.getAttribute("data-opens"));
    });
    document.addEventListener("click", function (event) {
      if (!menu.hidden && !menu.contains(event.target) && !button.contains(event.target)) {
        closeMenu(false);
      }
    });
  }

  // ---- Dialogs ------------------------------------------------------------
  // Every menu entry, and the Share button, opens the <dialog> its
  // data-opens names; closing it returns focus to the menu button (the
  // menu itself is gone by then) or to the button that opened it.
  function openDialog(id) {
    gl.openDialog(id, button);
  }

  var share = document.getElementById("share-button");
  if (share) {
    share.addEventListener("click", function () { openDialog(share.getAttribute("data-opens")); });
  }

  var clearErrors = gl.clearErrors;

  function showError(scope, result) {
    gl.showApiError(scope, result);
  }

  var editForm = document.getElementById("edit-form");
  if (editForm) {
    editForm.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(editForm);
      var body = {
        title: editForm.elements.title.value,
        description: editForm.elements.description.value
      };
      if (!body.title.trim()) {
        gl.showError(editForm, "title", "A title is required.");
        return;
      }
      api("PATCH", "/api/media/" + encodeURIComponent(mediaId), body).then(function (result) {
        if (!result.ok) { showError(editForm, result); return; }
        document.querySelectorAll('[data-field="title"]').forEach(function (el) { el.textContent = result.body.title; });
        document.querySelectorAll('[data-field="description"]').forEach(function (el) { el.textContent = result.body.description; });
        document.title = result.body.title + " · guestlink";
        editForm.elements.title.value = result.body.title;
        editForm.elements.description.value = result.body.description;
        document.getElementById("edit-dialog").close();
      }, function () { gl.showOffline(editForm); });
    });
  }

  var deleteForm = document.getElementById("delete-form");
  if (deleteForm) {
    deleteForm.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(deleteForm);
      api("DELETE", "/api/media/" + encodeURIComponent(mediaId)).then(function (result) {
        if (!result.ok) { showError(deleteForm, result); return; }
        var library = document.querySelector("[data-library-link]");
        window.location.assign(library ? library.href : "/course");
      }, function () { gl.showOffline(deleteForm); });
    });
  }

  // ---- Signed file URL renewal ------------------------------------------
  // The player's URL is signed for a short time. Before it expires the page
  // fetches a fresh one. A player that is not playing takes it at once; a
  // playing one keeps streaming on its old URL (the server honours it for the
  // rest of the stream) and takes the new one when it pauses. Should a
  // request fail anyway, the player resumes from where it was on a fresh URL.
  var player = document.getElementById("player");
  var renewAfter = player && parseInt(player.getAttribute("data-renew-after"), 10);
  if (!player || !renewAfter || !player.hasAttribute("src")) return;
  var isMedia = player.tagName === "VIDEO" || player.tagName === "AUDIO";
  var pending = null;

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
    return api("GET", "/api/media/" + encodeURIComponent(mediaId) + "/file-url").then(
      function (result) { return result.ok ? result.body.url : null; },
      function () { return null; }
    );
  }

  window.setInterval(function () {
    freshUrl().then(function (url) {
      if (!url) return;
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
