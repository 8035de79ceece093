// Progressive enhancement of the report form. Without this file the form
// still works in full; with it, the form shows only what applies.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var form = document.getElementById("report-form");
  if (!form) { return; }

  function checked(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  // 1. Exclusions first: a "yes" ends the form here and says where it belongs.
  var rest = document.getElementById("rest-of-form");
  var excludedBox = document.getElementById("excluded-box");
  var exclusionSets = form.querySelectorAll("[data-exclusion]");
  function updateExclusions() {
    var any = false;
    exclusionSets.forEach(function (set) {
      var input = set.querySelector('input[type="radio"]:checked');
      var yes = input !== null && input.value === "yes";
      set.querySelector(".excluded-note").hidden = !yes;
      any = any || yes;
    });
    excludedBox.hidden = !any;
    rest.hidden = any;
  }

  // 2. Only the chosen category's situations; others are cleared so that
  //    they are not sent.
  var items = form.querySelectorAll(".category-item");
  function updateCategory() {
    var chosen = checked("category");
    items.forEach(function (item) {
      var on = item.getAttribute("data-category") === chosen;
      item.classList.toggle("chosen", on);
      if (!on) {
        item.querySelectorAll('input[name="situations"]').forEach(function (box) {
          box.checked = false;
        });
      }
    });
  }

  // 3. Identity fields only for a real-name report; notify address only if asked.
  var identity = document.getElementById("identity-block");
  function updateIdentity() {
    identity.classList.toggle("off", checked("real_name") !== "yes");
  }
  var notify = document.getElementById("notify");
  var notifyField = document.getElementById("notify_email-field");
  function updateNotify() {
    if (notify && notifyField) { notifyField.hidden = !notify.checked; }
  }

  // 4. A live count of the characters left in the description.
  var description = document.getElementById("description");
  var counter = document.getElementById("description-counter");
  function updateCounter() {
    var left = 4000 - description.value.length;
    counter.hidden = false;
    counter.textContent = (document.documentElement.lang === "en" ? left + " characters left"
      : "还可输入 " + left + " 字");
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name || "";
    if (name.indexOf("ex_") === 0) { updateExclusions(); }
    if (name === "category") { updateCategory(); }
    if (name === "real_name") { updateIdentity(); }
    if (event.target === notify) { updateNotify(); }
  });
  if (description && counter) {
    description.addEventListener("input", updateCounter);
    updateCounter();
  }

  // 5. Too many or too large attachments are named before anything is sent
  //    (the server checks again; this only saves a long upload).
  var files = document.getElementById("attachments");
  var filesNote = document.getElementById("attachments-check");
  function filesProblem() {
    if (!files || !files.files) { return ""; }
    var maxFiles = parseInt(files.getAttribute("data-max-files"), 10);
    var maxBytes = parseInt(files.getAttribute("data-max-mb"), 10) * 1024 * 1024;
    if (files.files.length > maxFiles) { return files.getAttribute("data-too-many"); }
    for (var i = 0; i < files.files.length; i++) {
      if (files.files[i].size > maxBytes) {
        return files.files[i].name + "：" + files.getAttribute("data-too-large");
      }
    }
    return "";
  }
  function updateFiles() {
    var problem = filesProblem();
    filesNote.hidden = !problem;
    filesNote.textContent = problem;
    return problem;
  }
  if (files && filesNote) {
    files.addEventListener("change", updateFiles);
    form.addEventListener("submit", function (event) {
      if (updateFiles()) {
        event.preventDefault();
        files.focus();
      }
    });
  }

  // 6. One tap, one submission.
  var button = document.getElementById("submit-button");
  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) { return; }
    window.setTimeout(function () {
      button.disabled = true;
      button.textContent = button.getAttribute("data-busy-label");
    }, 0);
  });
  window.addEventListener("pageshow", function () {
    button.disabled = false;
  });

  updateExclusions();
  updateCategory();
  updateIdentity();
  updateNotify();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
