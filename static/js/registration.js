// LTI Dynamic Registration ends by telling the LMS to close its frame
// (Canvas, Moodle) or tab (Brightspace): the message goes to the parent
// frame, or to the window that opened this one.
(function () {
  "use strict";
  function closeRegistration() {
    var message = { subject: "org.imsglobal.lti.close" };
    if (window.parent && window.parent !== window) {
      window.parent.postMessage(message, "*");
    } else if (window.opener) {
      // A registration in its own tab (Brightspace): tell the opener, then
      // close the tab (browsers allow it for a tab a script opened).
      window.opener.postMessage(message, "*");
      window.close();
    }
  }
  if (document.querySelector("[data-close-on-load]")) {
    closeRegistration();
  }
  var cancel = document.querySelector("[data-close-registration]");
  if (cancel) {
    cancel.addEventListener("click", function () {
      closeRegistration();
      if (!window.opener && window.parent === window) {
        history.back();
      }
    });
  }
})();
