// A launch arrives as a form POST to /lti/launch. Giving the page its own
// address (the one its links use) means Back and Reload fetch it again with
// GET instead of asking to resubmit the launch, whose token is spent.
(function () {
  "use strict";
  var main = document.querySelector("main[data-page-url]");
  if (main && window.history && window.location.pathname !== main.getAttribute("data-page-url").split("?")[0]) {
    window.history.replaceState(null, "", main.getAttribute("data-page-url"));
  }
})();
