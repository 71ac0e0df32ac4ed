// Submits forms marked data-autosubmit (an LMS posting a launch, the tool
// posting a deep-linking response). Without JavaScript their button remains.
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.submit();
  });
})();
