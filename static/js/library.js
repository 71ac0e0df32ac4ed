// The add-media form of the library and the deep-linking picker: an upload
// with a progress bar (XMLHttpRequest reports upload progress; fetch does
// not), or a JSON create for linked content and rooms. Errors appear next to
// their field.
(function () {
  "use strict";

  var form = document.getElementById("add-media");
  if (!form) return;
  var gl = window.guestlink;
  var token = gl.token;
  var progressBox = form.querySelector(".progress");
  var progress = document.getElementById("upload-progress");
  var percent = document.getElementById("upload-percent");
  var submit = form.querySelector('button[type="submit"]');

  function source() {
    var checked = form.querySelector('input[name="source"]:checked');
    return checked ? checked.value : "file";
  }

  function showSourceFields() {
    var chosen = source();
    form.querySelectorAll("[data-source]").forEach(function (box) {
      box.hidden = box.getAttribute("data-source") !== chosen;
    });
  }
  form.querySelectorAll('input[name="source"]').forEach(function (radio) {
    radio.addEventListener("change", showSourceFields);
  });
  showSourceFields();

  // A title from the file's name saves typing when none was given.
  var fileInput = form.elements.file;
  fileInput.addEventListener("change", function () {
    var file = fileInput.files[0];
    if (file && !form.elements.title.value.trim()) {
      form.elements.title.value = file.name.replace(/\.[^.]+$/, "").replace(/[_-]+/g, " ").slice(0, 200);
    }
  });

  function clearErrors() {
    gl.clearErrors(form);
  }

  function showError(field, message) {
    gl.showError(form, field, message);
  }

  function busy(on) {
    submit.disabled = on;
    submit.textContent = on ? "Adding…" : "Add";
  }

  function done(status, body) {
    busy(false);
    progressBox.hidden = true;
    if (status === 201 && body) {
      // The next page is opened by a POST that carries the session (never a
      // token in the URL): the new item's page, or this page again.
      if (form.getAttribute("data-after-add") === "reload") {
        window.guestlink.navigate(window.location.pathname);
      } else {
        window.guestlink.navigate(new URL(body.page_url).pathname);
      }
      return;
    }
    var error = (body && body.error) || {};
    showError(error.field, error.message || "The item could not be added (" + status + "). Please try again.");
  }

  function parse(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var title = form.elements.title.value.trim();
    if (!title) { showError("title", "A title is required."); return; }
    var kind = form.elements.kind.value;
    var description = form.elements.description.value;
    var request = new XMLHttpRequest();
    request.open("POST", "/api/media");
    request.setRequestHeader("Authorization", "Bearer " + token);
    request.addEventListener("load", function () { done(request.status, parse(request.responseText)); });
    request.addEventListener("error", function () {
      busy(false);
      progressBox.hidden = true;
      showError("", "The upload was interrupted. Check your connection and try again.");
    });
    busy(true);

    if (source() === "file") {
      var file = fileInput.files[0];
      if (!file) { busy(false); showError("file", "Choose a file to upload."); return; }
      var data = new FormData();
      data.append("title", title);
      if (kind) data.append("kind", kind);
      data.append("description", description);
      data.append("file", file);
      progressBox.hidden = false;
      progress.value = 0;
      percent.textContent = "0%";
      request.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var value = Math.floor((e.loaded / e.total) * 100);
        progress.value = value;
        percent.textContent = value + "%";
      });
      request.send(data);
    } else {
      if (!kind) { busy(false); showError("kind", "Choose what kind of media this is."); return; }
      var body = { title: title, kind: kind, description: description };
      if (source() === "url") body.source_url = form.elements.source_url.value.trim();
      request.setRequestHeader("Content-Type", "application/json");
      request.send(JSON.stringify(body));
    }
  });
})();
