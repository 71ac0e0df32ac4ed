// Small helpers every page script shares: JSON API calls with the page's
// session token, and errors shown next to the field they are about
// (elements with data-error-for="FIELD"; data-error-for="" takes the rest).
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="guestlink-session"]');
  var token = meta ? meta.getAttribute("content") : "";

  // Resolves to {ok, status, body}; a network failure rejects.
  function api(method, path, body) {
    var init = { method: method, headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      if (response.status === 204) return { ok: true, status: 204, body: null };
      return response.json().then(
        function (json) { return { ok: response.ok, status: response.status, body: json }; },
        function () { return { ok: response.ok, status: response.status, body: null }; }
      );
    });
  }

  function clearErrors(scope) {
    scope.querySelectorAll("[data-error-for]").forEach(function (slot) {
      slot.hidden = true;
      slot.textContent = "";
    });
    scope.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
    });
  }

  function showError(scope, field, message) {
    var slot = scope.querySelector('[data-error-for="' + (field || "") + '"]') ||
      scope.querySelector('[data-error-for=""]');
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
    }
    var input = field && scope.querySelector('[name="' + field + '"]');
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  // The error of an API answer, shown where it belongs.
  function showApiError(scope, result) {
    var error = (result.body && result.body.error) || {};
    showError(scope, error.field, error.message ||
      "Something went wrong (" + result.status + "). Please try again.");
  }

  // Opens a <dialog> as a modal and tells its script ("guestlink:open").
  // Closing it gives the focus back to what opened it (or `fallback`).
  function openDialog(id, fallback) {
    var dialog = id && document.getElementById(id);
    if (!dialog) return;
    var opener = document.activeElement;
    clearErrors(dialog);
    if (!dialog.hasAttribute("data-wired")) {
      dialog.setAttribute("data-wired", "");
      dialog.querySelectorAll("[data-close]").forEach(function (close) {
        close.addEventListener("click", function () { dialog.close(); });
      });
    }
    dialog.addEventListener("close", function () {
      var back = opener && opener.isConnected && opener.offsetParent !== null ? opener : fallback;
      if (back) back.focus();
    }, { once: true });
    if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
    dialog.dispatchEvent(new CustomEvent("guestlink:open"));
    var first = dialog.querySelector("input:not([type=hidden]):not([readonly]), textarea, [role=switch], button:not([data-close])");
    if (first) first.focus();
  }

  // The error for a request that never got an answer.
  function showOffline(scope) {
    showError(scope, "", "guestlink could not be reached. Check your connection and try again.");
  }

  window.guestlink = Object.assign(window.guestlink || {}, {
    showOffline: showOffline,
    token: token,
    api: api,
    openDialog: openDialog,
    clearErrors: clearErrors,
    showError: showError,
    showApiError: showApiError
  });
})();
