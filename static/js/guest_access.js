// The "Manage guest access" modal: the switch, the links table, Create new
// link, copy, delete and who came in. Everything goes through the JSON API
// (src/web/guest_access_api.rs); every name is put on the page as text,
// never as HTML.
(function () {
  "use strict";

  var gl = window.guestlink;
  var dialog = document.getElementById("guest-access-dialog");
  if (!gl || !dialog) return;
  var mediaId = dialog.getAttribute("data-media-id");
  var base = "/api/media/" + encodeURIComponent(mediaId);
  var toggle = document.getElementById("ga-switch");
  var count = document.getElementById("ga-count");
  var create = document.getElementById("ga-create");
  var reason = document.getElementById("ga-create-reason");
  var table = document.getElementById("ga-links");
  var rows = table.querySelector("tbody");
  var status = document.getElementById("ga-status");
  var fallback = document.getElementById("ga-copy-fallback");
  var fallbackField = document.getElementById("ga-copy-field");
  var createDialog = document.getElementById("create-link-dialog");
  var createForm = document.getElementById("create-link-form");
  var deleteDialog = document.getElementById("delete-link-dialog");
  var deleteForm = document.getElementById("delete-link-form");
  var visitsDialog = document.getElementById("visits-dialog");
  var state = null;
  var pendingDelete = null;
  var shownVisits = null;

  var longDate = new Intl.DateTimeFormat("en-US", {
    month: "long", day: "numeric", year: "numeric", timeZone: "UTC"
  });
  var dateTime = new Intl.DateTimeFormat("en-US", {
    month: "long", day: "numeric", year: "numeric", hour: "numeric", minute: "2-digit"
  });

  function say(text) {
    status.textContent = text;
  }

  function countText(n) {
    return n === 0 ? "No links added" : n === 1 ? "1 link" : n + " links";
  }

  function clicksText(link) {
    return link.click_limit === null ? "unlimited" : link.clicks + " / " + link.click_limit;
  }

  var STATUS_TEXT = { expired: "Expired", exhausted: "Used up", inactive: "Inactive" };

  function icon(path) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var p = document.createElementNS("http://www.w3.org/2000/svg", "path");
    p.setAttribute("d", path);
    svg.appendChild(p);
    return svg;
  }

  var COPY = "M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z";
  var TRASH = "M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z";
  var PEOPLE = "M16 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-8 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm0 2c-2.33 0-7 1.17-7 3.5V19h14v-2.5C15 14.17 10.33 13 8 13zm8 0c-.29 0-.62.02-.97.05 1.16.84 1.97 1.97 1.97 3.45V19h6v-2.5c0-2.33-4.67-3.5-7-3.5z";

  function actionButton(label, path, action, link) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "icon-button small";
    button.setAttribute("aria-label", label + ": " + link.name);
    button.title = label;
    button.setAttribute("data-link-action", action);
    button.setAttribute("data-link-id", link.id);
    button.appendChild(icon(path));
    return button;
  }

  function render() {
    var links = state.links;
    toggle.setAttribute("aria-checked", state.enabled ? "true" : "false");
    toggle.disabled = !state.supported;
    count.textContent = countText(links.length);
    var why = "";
    if (!state.supported) why = "Guest access is not available for this item.";
    else if (!state.enabled) why = "Turn on Enable guest access to create links.";
    else if (links.length >= state.max_links) why = "This item has 3 links, the most it can have. Delete one to create another.";
    create.disabled = why !== "";
    reason.textContent = why;
    reason.hidden = why === "";
    rows.textContent = "";
    links.forEach(function (link) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-link-id", link.id);
      tr.setAttribute("data-status", link.status);
      tr.setAttribute("data-link-url", link.url);
      var name = document.createElement("td");
      name.className = "link-name";
      name.textContent = link.name;
      if (STATUS_TEXT[link.status]) {
        var badge = document.createElement("span");
        badge.className = "badge badge-" + link.status;
        badge.textContent = STATUS_TEXT[link.status];
        name.appendChild(document.createTextNode(" "));
        name.appendChild(badge);
      }
      var expiry = document.createElement("td");
      expiry.setAttribute("data-field", "expiration");
      expiry.textContent = link.expires_at ? longDate.format(new Date(link.expires_at)) : "No expiration";
      var clicks = document.createElement("td");
      clicks.setAttribute("data-field", "clicks");
      clicks.textContent = clicksText(link);
      var actions = document.createElement("td");
      actions.className = "link-actions";
      actions.appendChild(actionButton("Copy link", COPY, "copy", link));
      actions.appendChild(actionButton("Guests who used this link", PEOPLE, "visits", link));
      actions.appendChild(actionButton("Delete link", TRASH, "delete", link));
      tr.appendChild(name);
      tr.appendChild(expiry);
      tr.appendChild(clicks);
      tr.appendChild(actions);
      rows.appendChild(tr);
    });
    table.hidden = links.length === 0;
  }

  function failed(result) {
    gl.showApiError(dialog, result);
  }

  function offline() {
    gl.showOffline(dialog);
  }

  function load() {
    gl.clearErrors(dialog);
    return gl.api("GET", base + "/guest-access").then(function (result) {
      if (!result.ok) { failed(result); return; }
      state = result.body;
      render();
    }, offline);
  }

  function linkById(id) {
    return state && state.links.filter(function (l) { return l.id === id; })[0];
  }

  dialog.addEventListener("guestlink:open", function () {
    say("");
    fallback.hidden = true;
    load();
  });

  toggle.addEventListener("click", function () {
    if (!state) return;
    var wanted = !state.enabled;
    toggle.disabled = true;
    gl.api("PUT", base + "/guest-access", { enabled: wanted }).then(function (result) {
      toggle.disabled = false;
      if (!result.ok) { failed(result); return; }
      state = result.body;
      render();
      say(wanted ? "Guest access is on: active links work again." :
        "All guest links become inactive. New participants can't join using the link, and existing guests remain connected until they refresh or leave.");
    }, function () { toggle.disabled = false; offline(); });
  });

  // ---- Create new link -----------------------------------------------------
  create.addEventListener("click", function () {
    createForm.reset();
    gl.openDialog("create-link-dialog");
  });

  function numberOrNull(input) {
    var text = input.value.trim();
    if (text === "") return input.validity && input.validity.badInput ? "invalid" : null;
    return /^-?\d+$/.test(text) ? parseInt(text, 10) : text;
  }

  createForm.addEventListener("submit", function (event) {
    event.preventDefault();
    gl.clearErrors(createForm);
    var name = createForm.elements.name.value;
    if (!name.trim()) { gl.showError(createForm, "name", "Enter a name for the link."); return; }
    var body = {
      name: name,
      click_limit: numberOrNull(createForm.elements.click_limit),
      duration_days: numberOrNull(createForm.elements.duration_days)
    };
    var submit = createForm.querySelector('button[type="submit"]');
    submit.disabled = true;
    gl.api("POST", base + "/guest-links", body).then(function (result) {
      submit.disabled = false;
      if (!result.ok) { gl.showApiError(createForm, result); return; }
      createDialog.close();
      load().then(function () { say("Link “" + result.body.name + "” created."); });
    }, function () {
      submit.disabled = false;
      gl.showOffline(createForm);
    });
  });

  // ---- Copy, delete, visits ---------------------------------------------
  function copy(link) {
    fallback.hidden = true;
    var done = function () { say("Link copied to the clipboard: " + link.url); };
    // Inside an LMS frame the clipboard may be refused: then the link is
    // shown selected, for the user to copy by hand.
    var byHand = function () {
      fallbackField.value = link.url;
      fallback.hidden = false;
      fallbackField.focus();
      fallbackField.select();
      say("Your browser did not allow copying. The link is selected: press Ctrl+C (⌘C on a Mac) to copy it.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link.url).then(done, byHand);
    } else {
      byHand();
    }
  }

  function askDelete(link) {
    pendingDelete = link;
    deleteDialog.querySelector('[data-field="link-name"]').textContent = link.name;
    gl.openDialog("delete-link-dialog");
  }

  deleteForm.addEventListener("submit", function (event) {
    event.preventDefault();
    gl.clearErrors(deleteForm);
    var link = pendingDelete;
    if (!link) return;
    gl.api("DELETE", base + "/guest-links/" + encodeURIComponent(link.id)).then(function (result) {
      if (!result.ok) { gl.showApiError(deleteForm, result); return; }
      deleteDialog.close();
      load().then(function () { say("Link “" + link.name + "” deleted."); });
    }, function () {
      gl.showOffline(deleteForm);
    });
  });

  var moreVisits = document.getElementById("visits-more");
  var nextVisits = null;

  // One page of a link's guests at a time; "Show more guests" fetches the next.
  function loadVisits(link, after) {
    var body = visitsDialog.querySelector("tbody");
    var empty = visitsDialog.querySelector("[data-empty]");
    var visitsTable = document.getElementById("visits-table");
    var path = base + "/guest-links/" + encodeURIComponent(link.id) + "/visits" +
      (after ? "?after=" + encodeURIComponent(after) : "");
    moreVisits.disabled = true;
    gl.api("GET", path).then(function (result) {
      moreVisits.disabled = false;
      if (shownVisits !== link) return;
      if (!result.ok) { gl.showApiError(visitsDialog, result); return; }
      result.body.visits.forEach(function (visit) {
        var tr = document.createElement("tr");
        [visit.name, visit.email, dateTime.format(new Date(visit.at))].forEach(function (text) {
          var td = document.createElement("td");
          td.textContent = text;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      var any = body.children.length > 0;
      visitsTable.hidden = !any;
      empty.hidden = any;
      nextVisits = result.body.next;
      moreVisits.hidden = !nextVisits;
    }, function () {
      moreVisits.disabled = false;
      gl.showOffline(visitsDialog);
    });
  }

  function showVisits(link) {
    shownVisits = link;
    nextVisits = null;
    visitsDialog.querySelector('[data-field="link-name"]').textContent = link.name;
    visitsDialog.querySelector("tbody").textContent = "";
    moreVisits.hidden = true;
    gl.clearErrors(visitsDialog);
    gl.openDialog("visits-dialog");
    loadVisits(link, null);
  }

  moreVisits.addEventListener("click", function () {
    if (shownVisits && nextVisits) loadVisits(shownVisits, nextVisits);
  });

  // Guests may have come in while the owner looked: show fresh click counts.
  visitsDialog.addEventListener("close", function () { load(); });

  document.getElementById("visits-csv").addEventListener("click", function () {
    var link = shownVisits;
    if (!link) return;
    var path = base + "/guest-links/" + encodeURIComponent(link.id) + "/visits?format=csv";
    fetch(path, { headers: { Authorization: "Bearer " + gl.token } }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.blob();
    }).then(function (blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "guests-" + link.id + ".csv";
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    }).catch(function () {
      gl.showError(visitsDialog, "", "The CSV could not be downloaded. Please try again.");
    });
  });

  rows.addEventListener("click", function (event) {
    var button = event.target.closest("[data-link-action]");
    if (!button) return;
    var link = linkById(button.getAttribute("data-link-id"));
    if (!link) return;
    var action = button.getAttribute("data-link-action");
    if (action === "copy") copy(link);
    else if (action === "delete") askDelete(link);
    else if (action === "visits") showVisits(link);
  });
})();
