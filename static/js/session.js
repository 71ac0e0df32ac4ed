// The launch session inside the LMS frame, without ever putting its token in
// a URL (where history, copied links and proxy logs would keep it).
//
// A tool page carries its token in <meta name="guestlink-session">. This
// script keeps it in the tab: in the page's history entry (history.state)
// and in sessionStorage when the browser allows storage. Links marked
// data-nav are followed by a same-origin POST that carries the token in its
// body. A page reached without a credential (Reload or Back in a frame whose
// cookies are refused) is answered with a small page whose
// data-session-recovery="resume" makes this script post the kept token to
// the same address; "forget" (the token was refused) drops it.
(function () {
  "use strict";
  var KEY = "guestlink-session";

  function kept() {
    var token = null;
    try { token = window.history.state && window.history.state.guestlinkSession; } catch (e) { token = null; }
    if (!token) {
      try { token = window.sessionStorage.getItem(KEY); } catch (e) { token = null; }
    }
    return token;
  }

  function keep(token, url) {
    try { window.history.replaceState({ guestlinkSession: token }, "", url); } catch (e) { /* no history API */ }
    try { window.sessionStorage.setItem(KEY, token); } catch (e) { /* storage refused with the cookies */ }
  }

  function forget() {
    try { window.history.replaceState(null, ""); } catch (e) { /* nothing kept */ }
    try { window.sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
  }

  // Opens `url` (a path of this tool) as a POST carrying the token.
  function navigate(url, token) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    form.hidden = true;
    [["session", token], ["navigate", "1"]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  var meta = document.querySelector('meta[name="guestlink-session"]');
  var page = document.querySelector("main[data-page-url]");
  if (meta && page) {
    var token = meta.getAttribute("content");
    // The page's own GET address: Back and Reload fetch it instead of asking
    // to resubmit the POST that showed it (a launch, whose token is spent).
    keep(token, page.getAttribute("data-page-url"));
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-nav]") : null;
      if (!link || event.defaultPrevented || event.button !== 0 ||
          event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return;
      }
      event.preventDefault();
      navigate(link.getAttribute("href"), token);
    });
    window.guestlink = window.guestlink || {};
    window.guestlink.navigate = function (url) { navigate(url, token); };
  }

  var recovery = document.querySelector("main[data-session-recovery]");
  if (recovery) {
    if (recovery.getAttribute("data-session-recovery") === "resume") {
      var stored = kept();
      if (stored) {
        document.documentElement.setAttribute("data-resuming", "");
        // Submitted while the page loads, to the same address: the browser
        // replaces this page in the history rather than adding an entry.
        navigate(window.location.pathname + window.location.search, stored);
        return;
      }
    } else {
      forget();
    }
  }
})();
