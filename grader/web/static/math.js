// Typeset \( \) and \[ \] with the vendored KaTeX; without JavaScript the TeX source stays readable.
// An equation number written at the end of a display, "\qquad (9.7.9)", is set beside the formula
// instead of inside it, so that it stays in view when a narrow screen scrolls the formula.
document.addEventListener("DOMContentLoaded", function () {
  var number = /\\qquad\s*\((\d+(?:\.\d+)+)\)\s*\\\]\s*$/;
  document.querySelectorAll("div.arithmatex").forEach(function (block) {
    var found = block.textContent.match(number);
    if (!found) return;
    block.textContent = block.textContent.replace(number, "\\]");
    var label = document.createElement("span");
    label.className = "eqno";
    label.textContent = "(" + found[1] + ")";
    block.classList.add("numbered");
    block.appendChild(label);
  });
  renderMathInElement(document.body, {
    delimiters: [{left: "\\[", right: "\\]", display: true}, {left: "\\(", right: "\\)", display: false}],
    throwOnError: false
  });
  // What scrolls sideways (a wide formula, code) can be reached and scrolled from the keyboard.
  function reachable() {
    document.querySelectorAll("pre, .katex-display, .statement, .matrix-wrap").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
    });
  }
  reachable();
  if (document.fonts) document.fonts.ready.then(reachable);  // KaTeX's fonts change the widths
  window.addEventListener("resize", reachable);
});
