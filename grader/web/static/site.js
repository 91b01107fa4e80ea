// Small enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", function () {
  // Times in the reader's time zone (the server writes UTC).
  document.querySelectorAll("time.local[datetime]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    el.title = el.textContent;
    el.textContent = when.toLocaleString(undefined, {year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"});
  });
  // A refused form: bring its message and field into view, the field focused.
  var field = document.querySelector("[data-error-field]");
  if (field) {
    var message = document.getElementById((field.getAttribute("aria-describedby") || "").split(" ").pop());
    (message || field).scrollIntoView({block: "center"});
    field.focus({preventScroll: true});
  }
  // Copy buttons: the full-precision JSON of one array.
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard) navigator.clipboard.writeText(button.dataset.copy).then(done, function () {});
    });
  });
  // The code box: Tab indents; Esc releases the next Tab so the keyboard can leave (no trap).
  document.querySelectorAll("textarea.code").forEach(function (box) {
    var released = false;
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { released = true; return; }
      if (event.key !== "Tab" || released || event.ctrlKey || event.altKey || event.metaKey) { released = false; return; }
      event.preventDefault();
      var start = box.selectionStart, end = box.selectionEnd, text = box.value;
      if (event.shiftKey) {
        var lineStart = text.lastIndexOf("\n", start - 1) + 1;
        var cut = text.slice(lineStart, lineStart + 4).match(/^ */)[0].length;
        box.value = text.slice(0, lineStart) + text.slice(lineStart + cut);
        box.selectionStart = box.selectionEnd = Math.max(lineStart, start - cut);
      } else {
        box.value = text.slice(0, start) + "    " + text.slice(end);
        box.selectionStart = box.selectionEnd = start + 4;
      }
    });
    box.addEventListener("blur", function () { released = false; });
  });
  var offset = document.getElementById("tz_offset");
  if (offset) offset.value = String(new Date().getTimezoneOffset());
});
