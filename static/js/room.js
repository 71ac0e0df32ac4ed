// A live room, for a course member (the room panel of its media page), an
// invitee (the same panel under /i/{token}/, acting with their invitation's
// role) or a guest (their room view under /g/{token}/). The page follows the room over
// server-sent events: each event is the viewer's whole view of the room and
// the chat messages they have not had, so a page that reconnects is put
// right by the next event. Everything shown is set as text, never as HTML.
(function () {
  "use strict";

  var guestMain = document.querySelector('main[data-page="guest-room"]');
  // The element with the room's data attributes, and the page part the
  // room's elements are in (a member's room panel is split around the
  // item's title and three-dot menu).
  var panel = guestMain || document.querySelector("[data-room]");
  if (!panel) return;
  var isGuest = !!guestMain;
  var scope = isGuest ? guestMain : document.querySelector("main[data-media-id]");
  var gl = window.guestlink = window.guestlink || {};
  var mediaId = scope.getAttribute("data-media-id");
  // An invitee acts under their invitation's path, with the page's CSRF
  // token and their cookie, like a guest; a member through the API.
  var invitee = scope.getAttribute("data-page") === "invitee-room";
  var roomPath = scope.getAttribute("data-room-path") ||
    "/api/media/" + encodeURIComponent(mediaId) + "/room";
  // Whether this page's player leads everyone's: the member who put the
  // item on the stage (the room's events say so).
  var presenter = false;

  function $(selector) { return scope.querySelector(selector); }
  function all(selector) { return Array.prototype.slice.call(scope.querySelectorAll(selector)); }
  function show(el, visible) { if (el) el.hidden = !visible; }
  function text(el, value) { if (el) el.textContent = value; }

  // ---- Talking to the server ----------------------------------------------
  function call(method, path, body) {
    if (!isGuest && !invitee) return gl.api(method, path, body);
    return fetch(path, {
      method: method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": scope.getAttribute("data-csrf") },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin"
    }).then(function (response) {
      if (response.status === 204) return { ok: true, status: 204, body: null };
      return response.json().then(
        function (json) { return { ok: response.ok, status: response.status, body: json }; },
        function () { return { ok: response.ok, status: response.status, body: null }; });
    });
  }

  // Audio and video (static/js/av.js, present when media servers are set
  // up) follow the room through this page's events and act through call.
  gl.room = { call: call, messageOf: messageOf, passUrl: isGuest ? guestMain.getAttribute("data-av-url") : roomPath + "/av", roomPath: roomPath };
  function tellMedia(av, inside, moderator) {
    // Kept too: av.js may load after the first event (its scripts come
    // after this one) and starts from the latest.
    var detail = { av: av, inside: inside, moderator: moderator };
    gl.room.latest = detail;
    document.dispatchEvent(new CustomEvent("guestlink:room", { detail: detail }));
  }

  // The API's error message ({"error": {"code", "message"}}), if any.
  function messageOf(result) {
    var body = result && result.body;
    return (body && body.error && body.error.message) || "";
  }

  var roomError = $("[data-room-error]");
  function report(result) {
    if (!roomError) return;
    var message = messageOf(result);
    text(roomError, message || "That did not work. Please try again.");
    show(roomError, true);
  }
  function clearReport() { show(roomError, false); }

  function act(method, path, body) {
    clearReport();
    return call(method, path, body).then(function (result) {
      if (!result.ok) report(result);
      return result;
    }, function () { report(null); });
  }

  // ---- The event stream ---------------------------------------------------
  var eventsUrl = panel.getAttribute("data-events-url");
  var connection = $("[data-connection]");
  var lastId = "";
  var source = null;
  var retryMs = 1000;
  var failures = 0;
  var clockOffset = 0;

  function connect() {
    var url = eventsUrl;
    if (lastId) url += (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(lastId);
    source = new EventSource(url);
    source.addEventListener("room", function (event) {
      lastId = event.lastEventId || lastId;
      retryMs = 1000;
      failures = 0;
      show(connection, false);
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (isGuest) renderGuest(data); else renderMember(data);
    });
    source.addEventListener("open", function () { show(connection, false); });
    source.addEventListener("error", function () {
      show(connection, true);
      // A stream the server ended or refused is not retried by the
      // browser: open it again, from the last event, after a pause.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        failures += 1;
        // Refused again and again (a session that ended, a link that no
        // longer admits): the page itself says why.
        if (failures >= 6) {
          if (isGuest || invitee) { window.location.reload(); return; }
          text(connection, "Live updates stopped. Reload the page to continue.");
          return;
        }
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 10000);
      }
    });
  }

  // ---- The stage ----------------------------------------------------------
  var stageItem = $("[data-stage-item]");
  var stageEmpty = $("[data-stage-empty]");
  var stageCaption = $("[data-stage-caption]");
  var playAlong = $("[data-stage-follow]");
  var shownItem = null;
  var player = null;
  var lastPlayback = null;

  function renderStage(stage, url) {
    var id = stage ? stage.media_id : null;
    show(stageEmpty, !stage);
    show(stageItem, !!stage);
    show(stageCaption, !!stage);
    if (!stage) {
      if (shownItem !== null) { stageItem.textContent = ""; player = null; shownItem = null; }
      show(playAlong, false);
      return;
    }
    text(stageCaption, stage.title + " · " + stage.kind_label);
    if (id !== shownItem) {
      shownItem = id;
      stageItem.textContent = "";
      player = null;
      var el;
      if (stage.kind === "video" || stage.kind === "audio") {
        el = document.createElement(stage.kind === "video" ? "video" : "audio");
        el.controls = true;
        el.setAttribute("playsinline", "");
        el.preload = "auto";
        el.src = url || stage.source_url || "";
        el.setAttribute("data-stage-player", "");
        player = el;
        // Everyone keeps volume and full screen; a follower who pauses or
        // seeks is put back in step by the room's next event.
        if (!isGuest) watchPresenter(el);
      } else if (stage.kind === "image" && url) {
        el = document.createElement("img");
        el.src = url;
        el.alt = stage.title;
      } else if (url && stage.content_type === "application/pdf") {
        el = document.createElement("iframe");
        el.src = url;
        el.title = stage.title;
        el.className = "player-document";
      } else {
        el = document.createElement("p");
        var target = stage.source_url || url;
        if (target) {
          var a = document.createElement("a");
          a.href = target;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          a.className = "button";
          a.textContent = "Open " + stage.title;
          el.appendChild(a);
        } else {
          el.textContent = stage.title;
        }
      }
      el.className = (el.className ? el.className + " " : "") + "stage-media";
      stageItem.appendChild(el);
    }
    if (player && !presenter) follow(stage.playback);
  }

  // The presenter's play, pause and seek go to everyone.
  function watchPresenter(el) {
    function send() {
      if (!presenter || el !== player) return;
      call("POST", roomPath + "/playback", { playing: !el.paused, position: el.currentTime || 0 });
    }
    el.addEventListener("play", send);
    el.addEventListener("pause", send);
    el.addEventListener("seeked", send);
  }

  // Everyone else's player follows the presenter's.
  function follow(playback) {
    lastPlayback = playback;
    if (!player || !playback) return;
    var now = Date.now() + clockOffset;
    var target = playback.position + (playback.playing ? Math.max(0, now - playback.at_ms) / 1000 : 0);
    if (Math.abs((player.currentTime || 0) - target) > 0.35) {
      try { player.currentTime = target; } catch (e) { /* not seekable yet */ }
    }
    if (playback.playing && player.paused) {
      var started = player.play();
      if (started && started.catch) {
        started.then(function () { show(playAlong, false); }, function () { show(playAlong, true); });
      }
    } else if (!playback.playing && !player.paused) {
      player.pause();
    }
  }

  if (playAlong) {
    playAlong.addEventListener("click", function () {
      show(playAlong, false);
      follow(lastPlayback);
    });
  }

  // The small "Guest" mark beside a guest's name.
  function guestMark() {
    var mark = document.createElement("span");
    mark.className = "guest-mark small";
    mark.textContent = "Guest";
    return mark;
  }

  // ---- The chat -----------------------------------------------------------
  var chat = $("[data-chat]");
  var chatLog = $("[data-chat-log]");
  var chatForm = $("[data-chat-form]");
  var chatOff = $("[data-chat-off]");
  var chatSession = null;
  var lastSeq = 0;

  function renderChat(sessionId, messages) {
    if (sessionId !== chatSession) {
      chatSession = sessionId;
      lastSeq = 0;
      if (chatLog) chatLog.textContent = "";
    }
    (messages || []).forEach(function (m) {
      if (m.seq <= lastSeq) return;
      lastSeq = m.seq;
      var li = document.createElement("li");
      li.className = "chat-message";
      var who = document.createElement("span");
      who.className = "chat-author";
      who.textContent = m.name;
      li.appendChild(who);
      if (m.guest) li.appendChild(guestMark());
      var body = document.createElement("p");
      body.className = "chat-text";
      body.textContent = m.text;
      li.appendChild(body);
      chatLog.appendChild(li);
    });
    if (chatLog) chatLog.scrollTop = chatLog.scrollHeight;
  }

  if (chatForm) {
    chatForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = chatForm.elements.text;
      if (gl.clearErrors) gl.clearErrors(chatForm);
      var errorSlot = chatForm.querySelector('[data-error-for="text"]');
      if (!box.value.trim()) {
        text(errorSlot, "Write a message first.");
        show(errorSlot, true);
        return;
      }
      var path = isGuest ? panel.getAttribute("data-chat-url") : roomPath + "/chat";
      call("POST", path, { text: box.value }).then(function (result) {
        if (result.ok) { box.value = ""; show(errorSlot, false); return; }
        text(errorSlot, messageOf(result) || "The message was not sent.");
        show(errorSlot, true);
      }, function () {
        text(errorSlot, "The message was not sent: no connection.");
        show(errorSlot, true);
      });
    });
  }

  // ---- A guest's view -----------------------------------------------------
  function renderGuest(data) {
    clockOffset = data.server_now_ms - Date.now();
    var lobby = data.lobby;
    var before = panel.getAttribute("data-lobby-status");
    panel.setAttribute("data-lobby-status", lobby.status);
    if (lobby.status === "denied" || lobby.status === "withdrawn" || lobby.status === "timed_out") {
      // The server's page says why (and ends the guest session).
      if (before !== lobby.status) window.location.reload();
      return;
    }
    text($("[data-lobby-message]"), lobby.message);
    text($("[data-place]"), String(lobby.place));
    show($("[data-lobby-place]"), lobby.status === "waiting" && lobby.place > 0);
    var inside = lobby.status === "admitted";
    show($("[data-lobby]"), !inside);
    show($("[data-room-inside]"), inside);
    show(chat, inside);
    tellMedia(data.av || null, inside, false);
    if (!inside) return;
    renderStage(data.stage, data.stage && data.stage.url);
    show(chatForm, data.guests_may_chat);
    show(chatOff, !data.guests_may_chat);
    renderChat(lastId.split(".")[0], data.chat);
  }

  // ---- A member's view ----------------------------------------------------
  var waitingCount = $("[data-waiting-count]");
  var sawSession = false;
  var lobbyList = $("[data-lobby-list]");

  function minutesSince(iso) {
    var ms = Date.now() + clockOffset - Date.parse(iso);
    var minutes = Math.max(0, Math.floor(ms / 60000));
    return minutes < 1 ? "less than a minute" : minutes === 1 ? "1 minute" : minutes + " minutes";
  }

  var announce = $("[data-lobby-announce]");
  var knownEntries = {};

  function renderLobby(entries) {
    if (!lobbyList) return;
    // Screen readers hear who came (the list itself is not a live region).
    var arrived = entries.filter(function (e) { return !knownEntries[e.id]; });
    knownEntries = {};
    entries.forEach(function (e) { knownEntries[e.id] = true; });
    if (arrived.length === 1) text(announce, arrived[0].name + " is waiting to join.");
    else if (arrived.length > 1) text(announce, arrived.length + " guests are waiting to join.");
    text(waitingCount, String(entries.length));
    show($("[data-lobby-empty]"), entries.length === 0);
    var admitAll = $('[data-lobby-action="admit-all"]');
    if (admitAll) admitAll.disabled = entries.length === 0;
    lobbyList.textContent = "";
    entries.forEach(function (entry) {
      var li = document.createElement("li");
      li.className = "lobby-entry";
      li.setAttribute("data-entry-id", entry.id);
      var who = document.createElement("div");
      who.className = "lobby-who";
      var name = document.createElement("strong");
      name.textContent = entry.name;
      var email = document.createElement("span");
      email.className = "meta";
      email.textContent = entry.email;
      var how = document.createElement("span");
      how.className = "meta";
      how.textContent = "Link: " + (entry.link_name || "guest link") + " · waiting " + minutesSince(entry.waiting_since);
      who.appendChild(name);
      who.appendChild(email);
      who.appendChild(how);
      li.appendChild(who);
      var buttons = document.createElement("div");
      buttons.className = "lobby-buttons";
      [["admit", "Admit", "button"], ["deny", "Deny", "button secondary"]].forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = b[2];
        button.textContent = b[1];
        button.setAttribute("aria-label", b[1] + " " + entry.name);
        button.addEventListener("click", function () {
          button.disabled = true;
          act("POST", roomPath + "/lobby/" + encodeURIComponent(entry.id) + "/" + b[0]).then(function () {
            button.disabled = false;
          });
        });
        buttons.appendChild(button);
      });
      li.appendChild(buttons);
      lobbyList.appendChild(li);
    });
  }

  // Moderators see the guests in the session, each with Remove. Rows stay
  // as they are while their guest does (a keyboard user keeps their place).
  var guestList = $("[data-guest-list]");
  function renderGuestsIn(guests) {
    if (!guestList) return;
    show($("[data-guests-empty]"), guests.length === 0);
    var rows = {};
    Array.prototype.slice.call(guestList.children).forEach(function (li) {
      rows[li.getAttribute("data-guest-id")] = li;
    });
    var wanted = {};
    guests.forEach(function (g) {
      wanted[g.id] = true;
      if (!rows[g.id]) guestList.appendChild(guestRow(g));
    });
    Object.keys(rows).forEach(function (id) {
      if (wanted[id]) return;
      var row = rows[id];
      // Focus on a row that goes moves to the list's heading.
      if (row.contains(document.activeElement)) {
        var heading = $("#guests-heading");
        if (heading) { heading.tabIndex = -1; heading.focus(); }
      }
      guestList.removeChild(row);
    });
  }

  function guestRow(g) {
    var li = document.createElement("li");
    li.setAttribute("data-guest-id", g.id);
    var name = document.createElement("span");
    name.textContent = g.name;
    name.appendChild(guestMark());
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button secondary small-button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", "Remove " + g.name + " from the session");
    remove.setAttribute("data-remove-guest", g.id);
    remove.addEventListener("click", function () {
      remove.disabled = true;
      act("POST", roomPath + "/lobby/" + encodeURIComponent(g.id) + "/remove").then(function () { remove.disabled = false; });
    });
    li.appendChild(name);
    li.appendChild(remove);
    return li;
  }

  var joinAsked = false;

  function renderMember(data) {
    var room = data.room;
    var me = data.me;
    // An invitee whose role the owner changed gets the page of the new
    // role (its controls are the server's to decide).
    if (invitee && me.role !== panel.getAttribute("data-role")) {
      // Once per role: a page that comes back with the same difference
      // (which the server should never give) stays rather than loops.
      var key = "guestlink-invitee-role:" + window.location.pathname;
      var tried = null;
      try { tried = window.sessionStorage.getItem(key); } catch (e) { /* storage refused */ }
      if (tried !== me.role) {
        try { window.sessionStorage.setItem(key, me.role); } catch (e) { /* storage refused */ }
        window.location.reload();
        return;
      }
    }
    presenter = !!me.presenter;
    clockOffset = room.server_now_ms - Date.now();
    var running = !!room.session;
    panel.setAttribute("data-joined", me.joined ? "true" : "false");
    // Invitees skip the lobby: they are in as soon as a session runs.
    if (invitee && room.session && !me.joined && !joinAsked) {
      joinAsked = true;
      act("POST", roomPath + "/join").then(function () { joinAsked = false; });
    }
    // A session this page saw running has ended: say so until another starts.
    if (running) sawSession = true;
    var ended = !running && sawSession;
    text($("[data-session-status]"), running
      ? "Live session started by " + room.session.started_by + "." + (me.joined ? " You are in the session." : "")
      : ended ? "The session has ended." : "No session is running.");
    panel.setAttribute("data-session", running ? "running" : "none");
    show($('[data-room-action="start"]'), !running);
    show($('[data-room-action="end"]'), running);
    show($('[data-room-action="join"]'), running && !me.joined);
    show($("[data-room-inside]"), running && me.joined);
    show(chat, running && me.joined);
    show($("[data-lobby-panel]"), running);
    text($('[data-detail="session"]'), running
      ? "Started " + new Date(room.session.started_at).toLocaleTimeString() + " by " + room.session.started_by
      : "Not running");
    text($('[data-detail="guests-in"]'), String(room.guests_in));
    text($("[data-guests-in]"), String(room.guests_in));
    var policy = $("[data-lobby-policy]");
    if (policy && document.activeElement !== policy) policy.value = room.lobby_policy;
    text($('[data-detail="policy"]'), room.lobby_policy === "admit_all" ? "Admit guests automatically" : "Ask a moderator");
    var guestChat = $("[data-guest-chat]");
    if (guestChat) guestChat.checked = room.guests_may_chat;
    text($('[data-detail="guest-chat"]'), room.guests_may_chat ? "On" : "Off");
    if (room.lobby) renderLobby(running ? room.lobby : []);
    // The list comes only when it changed.
    var list = room.participants ? $("[data-participants]") : null;
    if (room.participants) text($("[data-participant-count]"), String(room.participants.length));
    if (list) {
      list.textContent = "";
      room.participants.forEach(function (p) {
        var li = document.createElement("li");
        var name = document.createElement("span");
        name.textContent = p.name;
        var badge = document.createElement("span");
        badge.className = "role-badge";
        badge.textContent = p.role.charAt(0).toUpperCase() + p.role.slice(1);
        if (p.invited) {
          var mark = document.createElement("span");
          mark.className = "invited-mark";
          mark.textContent = "Invited";
          name.appendChild(mark);
        }
        li.appendChild(name);
        li.appendChild(badge);
        list.appendChild(li);
      });
    }
    if (room.guests) renderGuestsIn(room.guests);
    tellMedia(room.av, running && me.joined, me.role === "moderator");
    show($("[data-stop-presenting]"), !!room.presenting);
    renderStage(running ? room.stage : null, me.stage_url);
    renderChat(room.session ? room.session.id : null, data.chat);
  }

  // ---- Member controls ----------------------------------------------------
  if (!isGuest) {
    all("[data-room-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        act("POST", roomPath + "/" + button.getAttribute("data-room-action"));
      });
    });
    var admitAll = $('[data-lobby-action="admit-all"]');
    if (admitAll) admitAll.addEventListener("click", function () { act("POST", roomPath + "/lobby/admit-all"); });
    var policy = $("[data-lobby-policy]");
    if (policy) policy.addEventListener("change", function () { act("PUT", roomPath + "/lobby", { policy: policy.value }); });
    var guestChat = $("[data-guest-chat]");
    if (guestChat) guestChat.addEventListener("change", function () {
      act("PUT", roomPath + "/chat", { guests_may_chat: guestChat.checked });
    });
    var presentForm = $("[data-present-form]");
    if (presentForm) {
      presentForm.addEventListener("submit", function (event) {
        event.preventDefault();
        act("POST", roomPath + "/present", { media_id: presentForm.elements.media_id.value });
      });
      $("[data-stop-presenting]").addEventListener("click", function () {
        act("POST", roomPath + "/present", { media_id: null });
      });
    }

    // Tabs: Details and Participants (arrow keys move between them).
    var tabs = all('[role="tab"]');
    function select(tab) {
      tabs.forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      });
    }
    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () { select(tab); });
      tab.addEventListener("keydown", function (event) {
        var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        event.preventDefault();
        var next = tabs[(i + step + tabs.length) % tabs.length];
        select(next);
        next.focus();
      });
    });

    // The Participants tab's three-dot menu.
    var menuButton = $("#participants-menu-button");
    var menu = $("#participants-menu");
    if (menuButton && menu) {
      var items = function () { return Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]')); };
      var close = function (focus) {
        menu.hidden = true;
        menuButton.setAttribute("aria-expanded", "false");
        if (focus) menuButton.focus();
      };
      menuButton.addEventListener("click", function () {
        var open = menu.hidden;
        menu.hidden = !open;
        menuButton.setAttribute("aria-expanded", open ? "true" : "false");
        if (open) items()[0].focus();
      });
      menu.addEventListener("keydown", function (event) {
        var list = items();
        var at = list.indexOf(document.activeElement);
        if (event.key === "ArrowDown") { event.preventDefault(); list[(at + 1) % list.length].focus(); }
        else if (event.key === "ArrowUp") { event.preventDefault(); list[(at - 1 + list.length) % list.length].focus(); }
        else if (event.key === "Escape") { event.preventDefault(); close(true); }
        else if (event.key === "Tab") close(false);
      });
      menu.addEventListener("click", function (event) {
        var item = event.target.closest('[role="menuitem"]');
        if (!item || item.getAttribute("aria-disabled") === "true") return;
        close(false);
        if (item.getAttribute("data-opens") && gl.openDialog) gl.openDialog(item.getAttribute("data-opens"), menuButton);
      });
      document.addEventListener("click", function (event) {
        if (!menu.hidden && !menu.contains(event.target) && !menuButton.contains(event.target)) close(false);
      });
    }
  }

  // A guest who waited too long has no guest session left to follow with.
  if (!(isGuest && panel.getAttribute("data-lobby-status") === "timed_out")) connect();
})();
