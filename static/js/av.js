// Audio and video in a live room, on the session's Janus VideoRoom room
// (README.md "Audio and video"). The page follows the room's events (from
// static/js/room.js): once its person is in the session and the session has
// a media room, it asks the tool for a pass (a participant id and token of
// its own), joins the room with Janus's browser library, shows everyone
// who publishes, and, when the pass allows, offers its own camera and
// microphone. The tool, not this page, decides who may publish: a page that
// publishes without the right is put out by the tool.
(function () {
  "use strict";

  var section = document.querySelector("[data-av]");
  var gl = window.guestlink || {};
  if (!section || !gl.room || typeof Janus === "undefined") return;

  var statusLine = section.querySelector("[data-av-status]");
  var controls = section.querySelector("[data-av-controls]");
  var startButton = section.querySelector("[data-av-start]");
  var micButton = section.querySelector("[data-av-mic]");
  var cameraButton = section.querySelector("[data-av-camera]");
  var muteAllButton = section.querySelector("[data-av-mute-all]");
  var soundButton = section.querySelector("[data-av-sound]");
  var reconnectButton = section.querySelector("[data-av-reconnect]");
  var grid = section.querySelector("[data-av-grid]");

  var MESSAGES = {
    connecting: "Connecting audio and video…",
    lost: "Audio and video lost their connection. Reconnecting…",
    serverDown: "The media server does not answer. Audio and video will come back when it does; the stage and the chat work.",
    refused: "Your browser did not allow the camera and microphone. Allow them for this site in the browser's settings, then select Start camera and microphone again.",
    noDevice: "No camera or microphone was found. Connect one, then select Start camera and microphone again.",
    busy: "Your camera or microphone is in use by another program. Close it, then try again.",
    framed: "If this page is shown inside your course, open it in a tab of its own: the course site may not let it use the camera.",
    cameraFailed: "Your camera and microphone could not be started. Reload the page and try again, or try another browser.",
    stopped: "Your audio and video stopped: a moderator removed you, or this room is open in another tab or window.",
    mutedAll: "A moderator muted everyone's microphone. Select Unmute microphone to speak.",
    noOne: "No one has a camera on yet."
  };

  var janusReady = false;      // Janus.init has run
  var moderator = false;
  var wanted = false;          // the page's person is in a session with a media room
  var roomNumber = null;       // the media room this page is for
  var pass = null;
  var janus = null;
  var handle = null;           // this page's participant in the room
  var myId = null;
  var myPrivateId = null;
  var feeds = {};              // publisher id -> { handle, tile, stream }
  var connecting = false;
  var halted = false;          // put out (or stopped): waits for Connect again
  var retryMs = 1000;
  var retryTimer = null;
  var publishing = false;
  // The person turned camera and microphone on in this session: after a
  // reconnection the page publishes again, keeping what they had muted.
  var wantPublish = false;
  var micMuted = false;
  var cameraOff = false;
  var lastMuteAll = null;
  var iMutedAll = false;
  var localTile = null;
  var lastProblem = "";        // the last thing that went wrong, for support
  // Moves on at every teardown: an answer or callback of an earlier
  // connection (a pass asked for, a Janus session being made) finds it
  // changed and does nothing.
  var generation = 0;

  function show(el, on) { if (el) el.hidden = !on; }

  // The status line stays in the page (a live region is announced only if
  // it was there before its text changed); an empty one takes no room.
  function say(message, kind) {
    if (!statusLine) return;
    statusLine.className = "av-status notice " + (kind === "error" ? "notice-error" : "notice-info");
    statusLine.textContent = message || "";
  }

  function absolute(server) {
    // A path is on the tool's own host (its proxy to the media server).
    return server.charAt(0) === "/" ? window.location.origin + server : server;
  }

  // ---- Following the room ------------------------------------------------
  document.addEventListener("guestlink:room", function (event) { follow(event.detail); });

  function follow(d) {
    var av = d.av;
    moderator = !!d.moderator;
    show(muteAllButton, moderator && !!myId);
    if (!av) { leave(); show(section, false); return; }
    show(section, d.inside);
    if (av.state !== "ready") {
      leave();
      if (d.inside) say(av.message, "info");
      return;
    }
    if (!d.inside) { leave(); return; }
    // A new session's room: start again there.
    if (roomNumber !== null && av.room !== roomNumber) { leave(); halted = false; }
    roomNumber = av.room;
    wanted = true;
    followMuteAll(av.mute_all);
    if (!janus && !connecting && !halted && !retryTimer) connect();
  }

  function followMuteAll(count) {
    if (lastMuteAll === null || count < lastMuteAll) { lastMuteAll = count; return; }
    if (count === lastMuteAll) return;
    lastMuteAll = count;
    if (iMutedAll) { iMutedAll = false; return; }
    if (publishing && handle && !handle.isAudioMuted()) {
      handle.muteAudio();
      micMuted = true;
      showMic();
      say(MESSAGES.mutedAll, "info");
    }
  }

  // ---- Joining -----------------------------------------------------------
  function connect() {
    var mine = generation;
    connecting = true;
    say(MESSAGES.connecting, "info");
    gl.room.call("POST", gl.room.passUrl).then(function (result) {
      if (mine !== generation) return;
      if (!wanted) { connecting = false; return; }
      if (!result.ok) {
        connecting = false;
        var message = gl.room.messageOf(result);
        if (result.status === 403 || result.status === 409) {
          // Barred, or not in the session (any more): nothing to retry.
          halted = result.status === 403;
          say(message || MESSAGES.stopped, "error");
          return;
        }
        say(result.status === 503 ? MESSAGES.serverDown : (message || MESSAGES.lost), "error");
        retryLater();
        return;
      }
      pass = result.body;
      openJanus(mine);
    }, function () {
      if (mine !== generation) return;
      connecting = false;
      say(MESSAGES.lost, "error");
      retryLater();
    });
  }

  function retryLater() {
    if (retryTimer || !wanted) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      if (wanted && !janus && !connecting && !halted) connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, 15000);
  }

  function openJanus(mine) {
    var start = function () {
      if (mine !== generation) return;
      var made = new Janus({
        server: absolute(pass.server),
        // Media goes straight between the browser and the media server.
        iceServers: [],
        success: function () {
          // Made for a connection since torn down: let it go.
          if (mine !== generation) { try { made.destroy({ cleanupHandles: true }); } catch (e) { /* gone */ } return; }
          attachParticipant(mine);
        },
        error: function (e) { if (mine === generation) lost(MESSAGES.lost, "media server: " + e); },
        destroyed: function () {}
      });
      janus = made;
    };
    if (janusReady) { start(); return; }
    Janus.init({
      debug: false,
      dependencies: Janus.useDefaultDependencies(),
      callback: function () { janusReady = true; start(); }
    });
  }

  function attachParticipant(mine) {
    janus.attach({
      plugin: "janus.plugin.videoroom",
      success: function (h) {
        if (mine !== generation) return;
        handle = h;
        h.send({ message: {
          request: "join", ptype: "publisher", room: pass.room,
          id: pass.participant_id, token: pass.token, display: pass.display
        } });
      },
      error: function (e) { if (mine === generation) lost(MESSAGES.lost, "attach: " + e); },
      onmessage: function (msg, jsep) { if (mine === generation) onParticipantMessage(msg, jsep); },
      onlocaltrack: function (track, on) { if (mine === generation) onLocalTrack(track, on); },
      onremotetrack: function () {},
      oncleanup: function () { if (mine === generation) removeLocalTile(); }
    });
  }

  function onParticipantMessage(msg, jsep) {
    var kind = msg.videoroom;
    if (kind === "joined") {
      myId = msg.id;
      myPrivateId = msg.private_id;
      connecting = false;
      retryMs = 1000;
      say("", "info");
      show(controls, true);
      show(startButton, pass.publish && !publishing);
      show(muteAllButton, moderator);
      show(reconnectButton, false);
      (msg.publishers || []).forEach(subscribe);
      noteEmpty();
      if (wantPublish && pass.publish) startPublishing();
    } else if (kind === "event") {
      (msg.publishers || []).forEach(subscribe);
      if (msg.unpublished !== undefined && msg.unpublished !== "ok") unsubscribe(msg.unpublished);
      // Someone the tool put out (Janus names them under "kicked").
      if (msg.kicked !== undefined) unsubscribe(msg.kicked);
      if (msg.leaving !== undefined) {
        if (msg.leaving === "ok" && msg.reason === "kicked") { stoppedByRoom(); return; }
        if (msg.leaving !== "ok") unsubscribe(msg.leaving);
      }
      if (msg.error_code) {
        // Refused at join (a withdrawn pass, a room made again): a new pass.
        if (!myId) { lost(MESSAGES.lost, "join refused: " + msg.error_code + " " + msg.error); return; }
        lastProblem = "refused: " + msg.error_code + " " + msg.error;
      }
    } else if (kind === "destroyed") {
      // The session ended (or its room went): the room's events say which.
      leave();
    }
    if (jsep && handle) handle.handleRemoteJsep({ jsep: jsep });
  }

  // ---- Publishing (moderators and speakers) ------------------------------
  function startPublishing() {
    if (!handle || !pass || !pass.publish) return;
    var mine = generation;
    startButton.disabled = true;
    handle.createOffer({
      tracks: [
        { type: "audio", capture: true, recv: false },
        { type: "video", capture: true, recv: false }
      ],
      success: function (offer) {
        if (mine !== generation) return;
        handle.send({ message: { request: "configure", audio: true, video: true }, jsep: offer });
        publishing = true;
        wantPublish = true;
        if (micMuted) handle.muteAudio();
        if (cameraOff) handle.muteVideo();
        startButton.disabled = false;
        show(startButton, false);
        show(micButton, true);
        show(cameraButton, true);
        showMic();
        showCamera();
        say("", "info");
      },
      error: function (error) {
        startButton.disabled = false;
        if (mine !== generation) return;
        var name = error && (error.name || String(error));
        lastProblem = "camera and microphone: " + name;
        say(cameraMessage(name), "error");
      }
    });
  }

  // What to tell someone whose camera and microphone did not start.
  function cameraMessage(name) {
    if (/NotAllowed|Permission|denied|Security/i.test(name)) {
      // Inside an LMS's frame the LMS must allow the camera too.
      return MESSAGES.refused + (window.top !== window.self ? " " + MESSAGES.framed : "");
    }
    if (/NotFound|Overconstrained/i.test(name)) return MESSAGES.noDevice;
    if (/NotReadable|TrackStart|Abort/i.test(name)) return MESSAGES.busy;
    return MESSAGES.cameraFailed;
  }

  function showMic() {
    var muted = handle && handle.isAudioMuted();
    micButton.textContent = muted ? "Unmute microphone" : "Mute microphone";
  }

  function showCamera() {
    var off = handle && handle.isVideoMuted();
    cameraButton.textContent = off ? "Start camera" : "Stop camera";
    if (localTile) localTile.classList.toggle("camera-off", !!off);
  }

  function onLocalTrack(track, on) {
    if (track.kind !== "video") return;
    if (!on) { removeLocalTile(); return; }
    if (!localTile) {
      localTile = tile("self", pass.display + " (you)", false);
      localTile.video.muted = true;
      grid.insertBefore(localTile, grid.firstChild);
    }
    localTile.video.srcObject = new MediaStream([track]);
    play(localTile.video);
    noteEmpty();
  }

  function removeLocalTile() {
    if (localTile && localTile.parentNode) localTile.parentNode.removeChild(localTile);
    localTile = null;
  }

  // ---- Watching and listening --------------------------------------------
  function subscribe(publisher) {
    var id = publisher.id;
    if (id === myId || feeds[id] || !janus) return;
    var feed = { id: id, handle: null, stream: new MediaStream(), tile: null };
    var room = pass.room;
    var privateId = myPrivateId;
    feeds[id] = feed;
    janus.attach({
      plugin: "janus.plugin.videoroom",
      success: function (h) {
        feed.handle = h;
        // Gone while attaching (the publisher left, or this page left).
        if (feeds[id] !== feed) { try { h.detach(); } catch (e) { /* gone */ } return; }
        h.send({ message: {
          request: "join", ptype: "subscriber", room: room,
          streams: [{ feed: id }], private_id: privateId
        } });
      },
      error: function (e) { lastProblem = "attaching a subscription: " + e; unsubscribe(id); },
      onmessage: function (msg, jsep) {
        // The publisher stopped, or the subscription was refused.
        if (msg.videoroom === "event" && (msg.left === "ok" || msg.error_code)) {
          if (msg.error_code) lastProblem = "subscribing: " + msg.error_code + " " + msg.error;
          unsubscribe(id);
          return;
        }
        if (!jsep || !feed.handle || feeds[id] !== feed) return;
        feed.handle.createAnswer({
          jsep: jsep,
          // Only receiving: audio and video are taken as offered.
          tracks: [{ type: "data" }],
          success: function (answer) {
            if (feeds[id] === feed) feed.handle.send({ message: { request: "start", room: room }, jsep: answer });
          },
          error: function (e) { lastProblem = "answering a subscription: " + e; unsubscribe(id); }
        });
      },
      onremotetrack: function (track, mid, on) {
        if (feeds[id] !== feed) return;
        if (on) {
          if (feed.stream.getTracks().indexOf(track) < 0) feed.stream.addTrack(track);
        } else {
          feed.stream.removeTrack(track);
        }
        if (!feed.tile) {
          feed.tile = tile(id, publisher.display || "Someone", moderator);
          grid.appendChild(feed.tile);
          feed.tile.video.srcObject = feed.stream;
        }
        feed.tile.classList.toggle("camera-off", feed.stream.getVideoTracks().length === 0);
        play(feed.tile.video);
        noteEmpty();
      },
      oncleanup: function () {}
    });
  }

  function unsubscribe(id) {
    var feed = feeds[id];
    if (!feed) return;
    delete feeds[id];
    if (feed.handle) { try { feed.handle.detach(); } catch (e) { /* gone already */ } }
    if (feed.tile && feed.tile.parentNode) {
      // Focus on a camera that goes moves to the section's heading.
      if (feed.tile.contains(document.activeElement)) {
        var heading = section.querySelector("#av-heading");
        if (heading) { heading.tabIndex = -1; heading.focus(); }
      }
      feed.tile.parentNode.removeChild(feed.tile);
    }
    noteEmpty();
  }

  // A tile: the video, the name, and for a moderator Remove.
  function tile(id, name, removable) {
    var li = document.createElement("li");
    li.className = "av-tile";
    li.setAttribute("data-feed", String(id));
    var video = document.createElement("video");
    video.autoplay = true;
    video.setAttribute("playsinline", "");
    video.setAttribute("aria-label", "Camera of " + name);
    li.appendChild(video);
    var label = document.createElement("p");
    label.className = "av-name";
    label.textContent = name;
    li.appendChild(label);
    if (removable) {
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button secondary small-button av-remove";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + name + " from audio and video");
      remove.addEventListener("click", function () {
        // Not to be undone in this session: asked once more.
        if (!window.confirm("Remove " + name + " from this session's audio and video? They keep the stage and the chat.")) return;
        remove.disabled = true;
        gl.room.call("POST", gl.room.roomPath + "/av/remove", { participant_id: id }).then(function (r) {
          remove.disabled = false;
          if (!r.ok) say(gl.room.messageOf(r) || "That did not work. Please try again.", "error");
        }, function () {
          remove.disabled = false;
          say("That did not work: no connection. Please try again.", "error");
        });
      });
      li.appendChild(remove);
    }
    li.video = video;
    return li;
  }

  // Browsers may refuse to play sound before the person has clicked: one
  // button then turns it on for every tile.
  function play(video) {
    var started = video.play();
    if (started && started.catch) started.catch(function () { show(soundButton, true); });
  }

  function noteEmpty() {
    var empty = !grid.querySelector(".av-tile");
    grid.setAttribute("data-empty", empty ? "true" : "false");
    var note = section.querySelector("[data-av-empty]");
    if (note) { note.textContent = MESSAGES.noOne; show(note, empty && !!myId); }
  }

  // ---- Leaving -----------------------------------------------------------
  function leave() {
    wanted = false;
    wantPublish = false;
    micMuted = false;
    cameraOff = false;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    teardown();
    show(controls, false);
  }

  function teardown() {
    generation += 1;
    Object.keys(feeds).forEach(unsubscribe);
    if (handle) { try { handle.hangup(); handle.detach(); } catch (e) { /* gone already */ } }
    if (janus) { try { janus.destroy({ cleanupHandles: true }); } catch (e) { /* gone already */ } }
    removeLocalTile();
    janus = null;
    handle = null;
    myId = null;
    myPrivateId = null;
    pass = null;
    connecting = false;
    publishing = false;
    show(micButton, false);
    show(cameraButton, false);
    show(muteAllButton, false);
    noteEmpty();
  }

  // The connection to the media server went (it restarted, the network
  // dropped): a new pass, after a pause that grows.
  function lost(message, problem) {
    lastProblem = problem || message;
    teardown();
    if (!wanted) return;
    say(message, "error");
    retryLater();
  }

  // Put out by the room: the tool withdrew this page's pass (a moderator
  // removed its person, or another page of theirs took a new pass). Not
  // retried by itself, so two tabs never take turns putting each other out.
  function stoppedByRoom() {
    teardown();
    halted = true;
    say(MESSAGES.stopped, "error");
    show(controls, true);
    show(startButton, false);
    show(reconnectButton, true);
  }

  // ---- Buttons -----------------------------------------------------------
  startButton.addEventListener("click", startPublishing);
  micButton.addEventListener("click", function () {
    if (!handle) return;
    if (handle.isAudioMuted()) handle.unmuteAudio(); else handle.muteAudio();
    micMuted = handle.isAudioMuted();
    showMic();
  });
  cameraButton.addEventListener("click", function () {
    if (!handle) return;
    if (handle.isVideoMuted()) handle.unmuteVideo(); else handle.muteVideo();
    cameraOff = handle.isVideoMuted();
    showCamera();
  });
  if (muteAllButton) {
    muteAllButton.addEventListener("click", function () {
      iMutedAll = true;
      gl.room.call("POST", gl.room.roomPath + "/av/mute-all").then(function (r) {
        if (!r.ok) { iMutedAll = false; say(gl.room.messageOf(r) || "That did not work. Please try again.", "error"); }
        else say("Everyone else's microphone is muted. Each of them can unmute.", "info");
      }, function () {
        iMutedAll = false;
        say("That did not work: no connection. Please try again.", "error");
      });
    });
  }
  soundButton.addEventListener("click", function () {
    show(soundButton, false);
    Array.prototype.forEach.call(grid.querySelectorAll("video"), play);
  });
  reconnectButton.addEventListener("click", function () {
    halted = false;
    show(reconnectButton, false);
    wanted = true;
    connect();
  });
  window.addEventListener("pagehide", function () { wanted = false; teardown(); });
  // The room's events that came before this script ran.
  if (gl.room.latest) follow(gl.room.latest);

  // What this page receives from each publisher, summed: for support (a
  // console call) and for the browser checks.
  window.guestlinkAv = {
    participantId: function () { return myId; },
    publishing: function () { return publishing; },
    lastProblem: function () { return lastProblem; },
    stats: function () {
      var pcs = Object.keys(feeds).map(function (id) {
        var h = feeds[id].handle;
        return h && h.webrtcStuff && h.webrtcStuff.pc;
      }).filter(Boolean);
      return Promise.all(pcs.map(function (pc) { return pc.getStats(); })).then(function (reports) {
        var total = { feeds: pcs.length, framesDecoded: 0, audioBytes: 0, videoBytes: 0 };
        reports.forEach(function (report) {
          report.forEach(function (s) {
            if (s.type !== "inbound-rtp") return;
            if (s.kind === "video") { total.framesDecoded += s.framesDecoded || 0; total.videoBytes += s.bytesReceived || 0; }
            if (s.kind === "audio") total.audioBytes += s.bytesReceived || 0;
          });
        });
        return total;
      });
    }
  };
})();
