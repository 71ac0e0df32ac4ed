// The "Invite users" dialog: invite one person by email with a role, show
// their link this once (with copy, and the same by-hand fallback as guest
// links), and list the item's invitations with their role, status,
// Resend and Revoke. Everything goes through the JSON API
// (src/web/invites_api.rs); every name is put on the page as text.
(function () {
  "use strict";

  var gl = window.guestlink;
  var dialog = document.getElementById("invite-users-dialog");
  if (!gl || !dialog) return;
  var base = "/api/media/" + encodeURIComponent(dialog.getAttribute("data-media-id")) + "/invites";
  var isRoom = dialog.getAttribute("data-kind") === "room";
  var form = document.getElementById("invite-form");
  var roleSelect = document.getElementById("iu-role");
  var roleHelp = dialog.querySelector("[data-role-help]");
  var daysField = document.getElementById("iu-days");
  var mailOption = dialog.querySelector("[data-mail-option]");
  var sendBox = document.getElementById("iu-send");
  var result = document.getElementById("iu-result");
  var linkField = document.getElementById("iu-link");
  var exists = document.getElementById("iu-exists");
  var table = document.getElementById("iu-list");
  var rows = table.querySelector("tbody");
  var empty = dialog.querySelector("[data-invites-empty]");
  var status = document.getElementById("iu-status");
  var revokeDialog = document.getElementById("revoke-invite-dialog");
  var revokeForm = document.getElementById("revoke-invite-form");
  var state = null;
  var existing = null;
  var pendingRevoke = null;

  var ROLE_LABEL = { viewer: "Viewer", speaker: "Speaker", moderator: "Moderator" };
  var ROLE_HELP = {
    viewer: isRoom ? "Watches the live session and chats." : "Views this media.",
    speaker: "Also presents, on the session's stage, the course's items shared with guests.",
    moderator: "Also starts and ends the session and lets guests in from the lobby."
  };
  var STATUS_LABEL = { pending: "Pending", accepted: "Accepted", expired: "Expired", revoked: "Revoked" };
  var EMAIL_LABEL = { not_sent: "Email not sent", sent: "Email sent", failed: "Email failed" };
  var until = new Intl.DateTimeFormat("en-US", {
    month: "long", day: "numeric", year: "numeric", hour: "numeric", minute: "2-digit"
  });

  function say(text) { status.textContent = text; }
  function field(scope, name) { return scope.querySelector('[data-field="' + name + '"]'); }

  function fillRoles(roles) {
    var chosen = roleSelect.value;
    roleSelect.textContent = "";
    roles.forEach(function (role) {
      var option = document.createElement("option");
      option.value = role;
      option.textContent = ROLE_LABEL[role] || role;
      roleSelect.appendChild(option);
    });
    if (roles.indexOf(chosen) >= 0) roleSelect.value = chosen;
    roleHelp.textContent = ROLE_HELP[roleSelect.value] || "";
  }
  roleSelect.addEventListener("change", function () { roleHelp.textContent = ROLE_HELP[roleSelect.value] || ""; });

  // ---- The list -----------------------------------------------------------
  function load() {
    return gl.api("GET", base).then(function (answer) {
      if (!answer.ok) { gl.showApiError(form, answer); return; }
      state = answer.body;
      fillRoles(state.roles);
      if (!daysField.value) daysField.value = String(state.default_days);
      mailOption.hidden = !state.mail;
      render();
    }, function () { gl.showOffline(form); });
  }

  function render() {
    var list = state.invites;
    field(dialog, "invite-count").textContent = String(list.length);
    empty.hidden = list.length > 0;
    table.hidden = list.length === 0;
    rows.textContent = "";
    list.forEach(function (invite) { rows.appendChild(row(invite)); });
  }

  function row(invite) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-invite-id", invite.id);
    tr.setAttribute("data-status", invite.status);
    var who = document.createElement("td");
    var name = document.createElement("strong");
    name.textContent = invite.name;
    var email = document.createElement("span");
    email.className = "meta";
    email.textContent = invite.email;
    who.appendChild(name);
    who.appendChild(document.createElement("br"));
    who.appendChild(email);
    tr.appendChild(who);

    var role = document.createElement("td");
    var live = invite.status === "pending" || invite.status === "accepted" || invite.status === "expired";
    if (live && state.roles.length > 1) {
      var select = document.createElement("select");
      select.setAttribute("aria-label", "Role of " + invite.name);
      select.setAttribute("data-invite-role", "");
      state.roles.forEach(function (r) {
        var option = document.createElement("option");
        option.value = r;
        option.textContent = ROLE_LABEL[r] || r;
        select.appendChild(option);
      });
      select.value = invite.role;
      select.addEventListener("change", function () { changeRole(invite, select); });
      role.appendChild(select);
    } else {
      role.textContent = ROLE_LABEL[invite.role] || invite.role;
    }
    tr.appendChild(role);

    var state_ = document.createElement("td");
    var badge = document.createElement("span");
    badge.className = "badge badge-" + invite.status;
    badge.textContent = STATUS_LABEL[invite.status] || invite.status;
    state_.appendChild(badge);
    var mail = document.createElement("span");
    mail.className = "meta email-" + invite.email_status;
    mail.setAttribute("data-email-status", invite.email_status);
    mail.textContent = " " + (EMAIL_LABEL[invite.email_status] || "");
    state_.appendChild(mail);
    tr.appendChild(state_);

    var actions = document.createElement("td");
    actions.className = "row-actions";
    if (invite.status !== "revoked") {
      actions.appendChild(button("Resend", invite, function () { resend(invite); }));
      actions.appendChild(button("Revoke", invite, function () { askRevoke(invite); }));
    }
    tr.appendChild(actions);
    return tr;
  }

  function button(label, invite, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button secondary small";
    b.textContent = label;
    b.setAttribute("aria-label", label + " the invitation of " + invite.name);
    b.setAttribute("data-invite-action", label.toLowerCase());
    b.addEventListener("click", onClick);
    return b;
  }

  // An email goes out after the answer: its outcome shows a moment later.
  function followEmail() {
    [1500, 5000, 15000].forEach(function (ms) {
      setTimeout(function () { if (dialog.open) load(); }, ms);
    });
  }

  // ---- Inviting -------------------------------------------------------------
  function showLink(invite, note) {
    exists.hidden = true;
    field(result, "invitee-name").textContent = invite.name;
    field(result, "result-note").textContent = note;
    field(result, "result-until").textContent = until.format(new Date(invite.expires_at));
    linkField.value = invite.url;
    result.hidden = false;
    result.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    gl.clearErrors(form);
    result.hidden = true;
    exists.hidden = true;
    var email = form.elements.email.value.trim();
    var name = form.elements.name.value.trim();
    if (!email) { gl.showError(form, "email", "Enter the person's email address."); return; }
    if (!name) { gl.showError(form, "name", "Enter the person's first and last name."); return; }
    var days = daysField.value.trim();
    var body = {
      email: email,
      name: name,
      role: roleSelect.value,
      send_email: !mailOption.hidden && sendBox.checked
    };
    if (days) body.expires_days = Number(days);
    var submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    gl.api("POST", base, body).then(function (answer) {
      submit.disabled = false;
      if (answer.status === 409 && answer.body && answer.body.invite) {
        existing = answer.body.invite;
        field(exists, "exists-name").textContent = existing.name + " (" + existing.email + ")";
        field(exists, "exists-role").textContent = ROLE_LABEL[existing.role] || existing.role;
        exists.hidden = false;
        load();
        return;
      }
      if (!answer.ok) { gl.showApiError(form, answer); return; }
      var invite = answer.body;
      form.elements.email.value = "";
      form.elements.name.value = "";
      showLink(invite, body.send_email
        ? "The link is on its way to " + invite.email + ". You can also copy it and send it yourself."
        : "Copy the link and send it to " + invite.email + ".");
      say("Invitation for " + invite.name + " created.");
      load();
      if (body.send_email) followEmail();
    }, function () {
      submit.disabled = false;
      gl.showOffline(form);
    });
  });

  document.getElementById("iu-another").addEventListener("click", function () {
    result.hidden = true;
    form.elements.email.focus();
  });

  document.getElementById("iu-exists-resend").addEventListener("click", function () {
    if (existing) resend(existing);
  });

  // ---- Copy -----------------------------------------------------------------
  document.getElementById("iu-copy").addEventListener("click", function () {
    var url = linkField.value;
    var done = function () { say("Link copied to the clipboard."); };
    // Inside an LMS frame the clipboard may be refused: then the link is
    // selected, for the user to copy by hand.
    var byHand = function () {
      linkField.focus();
      linkField.select();
      say("Your browser did not allow copying. The link is selected: press Ctrl+C (⌘C on a Mac) to copy it.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(done, byHand);
    } else {
      byHand();
    }
  });

  // ---- Resend, role, revoke -------------------------------------------------
  function resend(invite) {
    gl.api("POST", base + "/" + encodeURIComponent(invite.id) + "/resend").then(function (answer) {
      if (!answer.ok) { gl.showApiError(form, answer); return; }
      var renewed = answer.body;
      showLink(renewed, (state && state.mail
        ? "A new link is on its way to " + renewed.email + ". "
        : "Copy the new link and send it to " + renewed.email + ". ") + "The old link no longer works.");
      say("New link made for " + renewed.name + ".");
      load();
      if (state && state.mail) followEmail();
    }, function () { gl.showOffline(form); });
  }

  function changeRole(invite, select) {
    gl.api("PATCH", base + "/" + encodeURIComponent(invite.id), { role: select.value }).then(function (answer) {
      if (!answer.ok) { select.value = invite.role; gl.showApiError(form, answer); return; }
      invite.role = answer.body.role;
      say(invite.name + " is now " + (ROLE_LABEL[invite.role] || invite.role) + ".");
    }, function () { select.value = invite.role; gl.showOffline(form); });
  }

  function askRevoke(invite) {
    pendingRevoke = invite;
    field(revokeDialog, "invitee-email").textContent = invite.email;
    field(revokeDialog, "invitee-name").textContent = invite.name;
    gl.openDialog("revoke-invite-dialog");
  }

  revokeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    gl.clearErrors(revokeForm);
    var invite = pendingRevoke;
    if (!invite) return;
    gl.api("DELETE", base + "/" + encodeURIComponent(invite.id)).then(function (answer) {
      if (!answer.ok) { gl.showApiError(revokeForm, answer); return; }
      revokeDialog.close();
      load().then(function () { say("Invitation of " + invite.name + " revoked."); });
    }, function () { gl.showOffline(revokeForm); });
  });

  dialog.addEventListener("guestlink:open", function () {
    result.hidden = true;
    exists.hidden = true;
    say("");
    load();
  });
})();
