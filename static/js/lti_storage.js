// LTI platform storage (postMessage lti.put_data / lti.get_data), for
// browsers that block the tool's cookies inside the LMS frame.
//
// mode "put" (login): store this login's browser binding with the platform,
// then continue to the platform's authorization URL.
// mode "get" (launch): read the binding back and post the launch again.
// Either way, a platform that does not answer within two seconds (Canvas'
// mobile apps announce storage but lack it) falls back to the cookie.
(function () {
  "use strict";
  var el = document.getElementById("lti-storage");
  if (!el) { return; }
  var mode = el.getAttribute("data-mode");
  var target = el.getAttribute("data-target");
  var origin = el.getAttribute("data-origin");
  var key = el.getAttribute("data-key");
  var messageId = "guestlink-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  var finished = false;

  function platformFrame() {
    try {
      if (window.parent === window) { return null; }
      if (target === "_parent") { return window.parent; }
      return window.parent.frames[target] || null;
    } catch (e) {
      return null;
    }
  }

  function finish(value) {
    if (finished) { return; }
    finished = true;
    window.removeEventListener("message", onMessage);
    if (mode === "put") {
      window.location.replace(el.getAttribute("data-next"));
    } else {
      var form = document.getElementById("lti-storage-form");
      if (value) { form.elements.storage_binding.value = value; }
      form.submit();
    }
  }

  function onMessage(event) {
    if (event.origin !== origin) { return; }
    var data = event.data || {};
    if (data.message_id !== messageId) { return; }
    if (mode === "put" && data.subject === "lti.put_data.response") { finish(""); }
    if (mode === "get" && data.subject === "lti.get_data.response") { finish(data.error ? "" : data.value); }
  }

  var frame = platformFrame();
  if (!frame) { finish(""); return; }
  window.addEventListener("message", onMessage);
  var message = mode === "put"
    ? { subject: "lti.put_data", message_id: messageId, key: key, value: el.getAttribute("data-value") }
    : { subject: "lti.get_data", message_id: messageId, key: key };
  try {
    frame.postMessage(message, origin);
  } catch (e) {
    finish("");
    return;
  }
  window.setTimeout(function () { finish(""); }, 2000);
})();
