// The media page: the three-dot menu (a WAI-ARIA menu button) and the
// dialogs its entries open. The player's URL is renewed by player.js.
(function () {
  "use strict";

  var main = document.querySelector('main[data-page="media"]');
  if (!main) return;
  var mediaId = main.getAttribute("data-media-id");
  var gl = window.guestlink;
  var api = gl.api;

  // ---- The menus -----------------------------------------------------------
  // The three dots below the player, and Share (a small chooser): WAI-ARIA
  // menu buttons whose entries open the <dialog> their data-opens names;
  // closing it returns focus to the menu's button.
  function wireMenu(button, menu) {
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
      gl.openDialog(item.getAttribute("data-opens"), button);
    });
    document.addEventListener("click", function (event) {
      if (!menu.hidden && !menu.contains(event.target) && !button.contains(event.target)) {
        closeMenu(false);
      }
    });
  }

  [["media-menu-button", "media-menu"], ["share-button", "share-menu"]].forEach(function (ids) {
    var button = document.getElementById(ids[0]);
    var menu = document.getElementById(ids[1]);
    if (button && menu) wireMenu(button, menu);
  });

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
        gl.navigate(library ? library.getAttribute("href") : "/course");
      }, function () { gl.showOffline(deleteForm); });
    });
  }
})();
